// Job budgets in shared memory (worker/budget.h).
#include "worker/budget.h"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace worker {

static_assert(std::atomic<int64_t>::is_always_lock_free, "shared slots need lock-free atomics");

BudgetBoard* BudgetBoard::create_shared() {
    void* p = mmap(nullptr, sizeof(BudgetBoard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
        std::perror("mmap job budgets");
        std::abort();
    }
    // Anonymous mappings are zero-filled, which is every atomic's initial state here.
    return new (p) BudgetBoard;
}

int64_t monotonic_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void JobBudget::start(int64_t job_id) {
    started_ms_ = monotonic_ms();
    audio_seconds(cfg_.upload_max_seconds);
    slot_.job_id.store(job_id);  // last: the master never sees this job with an old deadline
}

void JobBudget::audio_seconds(double seconds) {
    double audio = std::clamp(seconds, 0.0, static_cast<double>(cfg_.upload_max_seconds));
    auto budget = static_cast<int64_t>(
        (cfg_.worker_job_budget_base_s + cfg_.worker_job_budget_factor * audio) * 1000);
    slot_.budget_ms.store(budget);
    slot_.deadline_ms.store(started_ms_ + budget);
}

void JobBudget::finish() {
    slot_.job_id.store(0);
}

int64_t job_over_budget(const BudgetSlot& slot, int64_t now_ms) {
    int64_t id = slot.job_id.load();
    if (id == 0 || now_ms <= slot.deadline_ms.load()) return 0;
    // Still the same job: one that just ended and a new one whose deadline is not read yet
    // must not be mistaken for each other.
    return slot.job_id.load() == id ? id : 0;
}

}  // namespace worker
