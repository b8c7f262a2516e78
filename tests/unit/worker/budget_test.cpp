// Job budgets: base + factor × audio seconds from the job's start, capped at upload.max_seconds
// (a header can lie); the master sees a job only past its deadline, and never a finished one.
#include "worker/budget.h"

#include <gtest/gtest.h>

namespace {

core::Config config(int base_s, int factor, int max_seconds) {
    core::Config c{};
    c.worker_job_budget_base_s = base_s;
    c.worker_job_budget_factor = factor;
    c.upload_max_seconds = max_seconds;
    return c;
}

TEST(JobBudget, UnknownDurationGetsTheLongestAudiosBudget) {
    core::Config c = config(10, 2, 100);
    worker::BudgetSlot slot{};
    worker::JobBudget budget(slot, c);
    budget.start(7);
    EXPECT_EQ(slot.job_id.load(), 7);
    EXPECT_EQ(slot.budget_ms.load(), (10 + 2 * 100) * 1000);
}

TEST(JobBudget, FollowsTheDurationCappedAtTheUploadLimit) {
    core::Config c = config(10, 2, 100);
    worker::BudgetSlot slot{};
    worker::JobBudget budget(slot, c);
    budget.start(7);
    int64_t deadline_unknown = slot.deadline_ms.load();
    budget.audio_seconds(5);
    EXPECT_EQ(slot.budget_ms.load(), 20 * 1000);
    EXPECT_EQ(slot.deadline_ms.load(), deadline_unknown - 190 * 1000);  // same start
    budget.audio_seconds(1e9);                                          // a header that lies
    EXPECT_EQ(slot.budget_ms.load(), (10 + 2 * 100) * 1000);
    budget.audio_seconds(-3);
    EXPECT_EQ(slot.budget_ms.load(), 10 * 1000);
}

TEST(JobBudget, OverBudgetOnlyPastTheDeadlineAndWhileHeld) {
    core::Config c = config(1, 0, 100);
    worker::BudgetSlot slot{};
    EXPECT_EQ(worker::job_over_budget(slot, worker::monotonic_ms() + 1000000), 0);  // no job
    {
        worker::JobBudget budget(slot, c);
        worker::BudgetedJob held(budget, 42);
        int64_t deadline = slot.deadline_ms.load();
        EXPECT_EQ(worker::job_over_budget(slot, deadline), 0);
        EXPECT_EQ(worker::job_over_budget(slot, deadline + 1), 42);
    }
    EXPECT_EQ(slot.job_id.load(), 0);  // finished: never killed for it
    EXPECT_EQ(worker::job_over_budget(slot, worker::monotonic_ms() + 1000000), 0);
}

}  // namespace
