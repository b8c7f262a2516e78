// TaskThread: tasks in order on their own thread, and a State's idle work run only while no
// task waits (the live daemon's lanes decode ahead that way between frames).
#include "live/task_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <utility>
#include <vector>

namespace live {
namespace {

constexpr auto kPatience = std::chrono::seconds(20);  // a hang guard, not a synchronisation

TEST(TaskThread, RunsTasksInOrderOnItsOwnState) {
    std::vector<int> seen;
    std::promise<void> done;
    {
        TaskThread<std::vector<int>> t([] { return std::vector<int>{}; });
        for (int i = 0; i < 100; ++i) t.post([i](std::vector<int>& v) { v.push_back(i); });
        t.post([&](std::vector<int>& v) {
            seen = v;
            done.set_value();
        });
        ASSERT_EQ(done.get_future().wait_for(kPatience), std::future_status::ready);
    }
    ASSERT_EQ(seen.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
}

// Idle work that runs out: called after a task until it says there is no more, then not again
// until another task ran.
struct Budgeted {
    int budget = 0;
    int calls = 0;
    std::promise<void>* drained = nullptr;
    bool work_when_idle() {
        ++calls;
        if (budget == 0) {
            if (drained) std::exchange(drained, nullptr)->set_value();
            return false;
        }
        --budget;
        return true;
    }
};

TEST(TaskThread, IdleWorkRunsAfterATaskUntilItSaysNoMore) {
    TaskThread<Budgeted> t([] { return Budgeted{}; });
    std::promise<void> drained;
    t.post([&](Budgeted& s) {
        s.budget = 5;
        s.drained = &drained;
    });
    ASSERT_EQ(drained.get_future().wait_for(kPatience), std::future_status::ready);
    std::promise<int> calls;
    t.post([&](Budgeted& s) { calls.set_value(s.calls); });
    auto f = calls.get_future();
    ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
    EXPECT_EQ(f.get(), 6);  // five slices, then the call that found nothing
}

// Idle work that never runs out must not starve posted tasks: each waits one call at most.
struct Endless {
    std::atomic<bool>* stop = nullptr;
    long calls = 0;
    bool work_when_idle() {
        ++calls;
        return !stop->load();
    }
};

TEST(TaskThread, PostedTasksRunBetweenIdleWorkThatNeverEnds) {
    std::atomic<bool> stop{false};
    TaskThread<Endless> t([&] { return Endless{&stop, 0}; });
    struct StopFirst {  // destroyed before t, even when an assertion returns early
        std::atomic<bool>& stop;
        ~StopFirst() { stop = true; }
    } stop_first{stop};
    std::promise<void> started;
    t.post([&](Endless&) { started.set_value(); });  // idle work begins after this task
    ASSERT_EQ(started.get_future().wait_for(kPatience), std::future_status::ready);
    for (int i = 0; i < 20; ++i) {
        std::promise<long> calls;
        t.post([&](Endless& s) { calls.set_value(s.calls); });
        auto f = calls.get_future();
        ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready) << "task " << i << " starved";
    }
}

}  // namespace
}  // namespace live
