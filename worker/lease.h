// LeaseKeeper: renews the lease of the job a decoder process holds, on a timer of its own
// (every third of the lease) and over a connection of its own, independent of how often the
// decoding reaches a progress checkpoint: recognition of one long utterance can take longer
// than a short lease, and a healthy job must not be re-claimed while it runs. When a renewal
// finds the job no longer ours (re-claimed after a pause, released, finished elsewhere), lost()
// turns true and the decoder abandons the job at its next checkpoint without writing anything.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "db/jobs.h"
#include "db/pg.h"

namespace worker {

class LeaseKeeper {
  public:
    LeaseKeeper(db::DbSettings settings, int lease_s);
    ~LeaseKeeper();  // stops the timer thread and joins it
    LeaseKeeper(const LeaseKeeper&) = delete;
    LeaseKeeper& operator=(const LeaseKeeper&) = delete;

    // The decoder took this job (its lease was just set by the claim) / is done with it.
    void hold(const db::Job& job);
    void drop();
    // True once a renewal found the held job fenced off; reset by hold().
    const std::atomic<bool>& lost() const { return lost_; }

  private:
    void run();
    bool renew(const db::Job& job);

    db::Db db_;
    int lease_s_;
    std::chrono::milliseconds period_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::optional<db::Job> job_;
    std::atomic<bool> lost_{false};
    std::thread thread_;  // last: started once the members it uses exist
};

// Holds a job in a keeper for the life of a scope.
class HeldJob {
  public:
    HeldJob(LeaseKeeper& keeper, const db::Job& job) : keeper_(keeper) { keeper_.hold(job); }
    ~HeldJob() { keeper_.drop(); }
    HeldJob(const HeldJob&) = delete;
    HeldJob& operator=(const HeldJob&) = delete;

  private:
    LeaseKeeper& keeper_;
};

}  // namespace worker
