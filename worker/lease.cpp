// The lease keeper's timer thread.
#include "worker/lease.h"

#include <algorithm>
#include <string>

#include "core/log.h"

namespace worker {

LeaseKeeper::LeaseKeeper(db::DbSettings settings, int lease_s)
    : db_(std::move(settings)),
      lease_s_(lease_s),
      // A third of the lease: two renewals may fail (a PostgreSQL restart) before it expires.
      period_(std::max<int64_t>(100, int64_t{lease_s} * 1000 / 3)),
      thread_([this] { run(); }) {}

LeaseKeeper::~LeaseKeeper() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void LeaseKeeper::hold(const db::Job& job) {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = job;
    lost_.store(false);
}

void LeaseKeeper::drop() {
    std::lock_guard<std::mutex> lock(mu_);
    job_.reset();
}

// True when the lease was extended or the outcome is unknown (the database is unreachable:
// the next renewal tries again; if the lease expires meanwhile, the fence decides).
bool LeaseKeeper::renew(const db::Job& job) {
    try {
        return db::renew_lease(db_, job, lease_s_);
    } catch (const db::DbError& e) {
        core::log_warn("job " + std::to_string(job.id) + ": lease renewal failed: " + e.what());
        return true;
    }
}

void LeaseKeeper::run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, period_, [this] { return stop_; });
        if (stop_ || !job_) continue;
        db::Job job = *job_;
        lock.unlock();  // hold() and drop() never wait for a database round trip
        bool ours = renew(job);
        lock.lock();
        // Not logged here: a renewal can also miss a job this decoder has just completed (before
        // drop()); the flag only matters while the job runs, and the decoder logs the abandon.
        bool same = job_ && job_->id == job.id && job_->attempts == job.attempts;
        if (!ours && same) lost_.store(true);
    }
}

}  // namespace worker
