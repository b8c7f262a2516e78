// TaskThread: one thread running posted tasks in order, with state of its own (a database
// connection, a decoder) that only that thread touches. The live daemon uses one for
// PostgreSQL queries (so the I/O thread never blocks on the database) and one per decoder.
// A State with `bool work_when_idle()` gets the thread's idle time: it is called while no task
// waits, until it returns false, and a posted task runs as soon as the call in progress returns.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace live {

template <class State>
class TaskThread {
  public:
    using Task = std::function<void(State&)>;

    // make_state runs on the new thread (a decoder must be created where it is used).
    template <class Make>
    explicit TaskThread(Make make_state) : thread_([this, make_state] { run(make_state); }) {}
    ~TaskThread() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    TaskThread(const TaskThread&) = delete;
    TaskThread& operator=(const TaskThread&) = delete;

    void post(Task t) {
        {
            std::lock_guard lock(mu_);
            tasks_.push_back(std::move(t));
        }
        cv_.notify_one();
    }

  private:
    static bool work_when_idle(State& state) {
        if constexpr (requires { state.work_when_idle(); }) {
            return state.work_when_idle();
        } else {
            return false;
        }
    }

    template <class Make>
    void run(Make make_state) {
        State state = make_state();
        bool idle_work = false;  // worth asking the state: a task ran since it last said no
        for (;;) {
            Task t;
            {
                std::unique_lock lock(mu_);
                if (idle_work && tasks_.empty() && !stopping_) {
                    lock.unlock();
                    idle_work = work_when_idle(state);
                    continue;
                }
                cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
                if (tasks_.empty()) return;  // stopping, and everything posted has run
                t = std::move(tasks_.front());
                tasks_.pop_front();
            }
            t(state);
            idle_work = true;
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Task> tasks_;
    bool stopping_ = false;
    std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace live
