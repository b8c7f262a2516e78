// Job budgets: a job may take worker.job_budget_base_s + worker.job_budget_factor × its audio's
// duration. The lease keeper renews a job for as long as its decoder process lives, so a decoder
// hung inside a library (a decode or recognition that never returns) would hold its job and its
// decoder forever; instead each decoder publishes, in memory shared with the master, which job it
// runs and by when it must end, and the master kills a decoder past that time (the job is then
// failed like a crash: retried, or dead at max_attempts). Lock-free atomics only: a decoder killed
// mid-update cannot leave a lock held.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/config.h"

namespace worker {

inline constexpr int kMaxDecoders = 64;  // worker.threads' upper bound

// One decoder's job as the master sees it; written only by that decoder (and cleared by the
// master once the decoder is dead).
struct BudgetSlot {
    std::atomic<int64_t> job_id;       // 0: no job in hand
    std::atomic<int64_t> deadline_ms;  // monotonic ms by which the job must have ended
    std::atomic<int64_t> budget_ms;    // the budget that deadline came from (for the log)
};

struct BudgetBoard {
    BudgetSlot slots[kMaxDecoders];
    // Maps a zeroed board shared with the decoders forked later. Aborts if mmap fails.
    static BudgetBoard* create_shared();
};

int64_t monotonic_ms();

// The decoder's side of its slot, for one job at a time.
class JobBudget {
  public:
    JobBudget(BudgetSlot& slot, const core::Config& cfg) : slot_(slot), cfg_(cfg) {}
    // A job claimed now; until its duration is known, the budget of the longest audio allowed.
    void start(int64_t job_id);
    // The audio's duration is known (from the upload's header, then from decoding): the budget
    // follows it, counted from start(). Capped at upload.max_seconds (a header can lie).
    void audio_seconds(double seconds);
    void finish();

  private:
    BudgetSlot& slot_;
    const core::Config& cfg_;
    int64_t started_ms_ = 0;
};

// Holds a job's budget for the life of a scope.
class BudgetedJob {
  public:
    BudgetedJob(JobBudget& budget, int64_t job_id) : budget_(budget) { budget_.start(job_id); }
    ~BudgetedJob() { budget_.finish(); }
    BudgetedJob(const BudgetedJob&) = delete;
    BudgetedJob& operator=(const BudgetedJob&) = delete;

  private:
    JobBudget& budget_;
};

// The master's side: the job a decoder's slot shows past its deadline at now_ms, or 0.
int64_t job_over_budget(const BudgetSlot& slot, int64_t now_ms);

}  // namespace worker
