// The worker daemon: threads, wake-ups, heartbeats, shutdown.
#include "worker/worker.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/passwords.h"
#include "db/jobs.h"
#include "db/listen.h"
#include "worker/pipeline.h"

namespace worker {
namespace {

// Shared by the threads of one daemon; lives on run_worker_daemon's stack.
struct Shared {
    Shared(const core::Config& c, bool d) : cfg(c), drain(d) {}
    const core::Config& cfg;
    bool drain;
    std::atomic<bool> stopping{false};
    std::atomic<int> idle_in_drain{0};  // threads that found nothing to do (drain mode)
    std::mutex mu;
    std::condition_variable wake;
};

db::DbSettings settings(const core::Config& cfg, const std::string& role) {
    return db::DbSettings{cfg.db_url, role + "-" + std::to_string(getpid()),
                          cfg.db_connect_timeout_s, 60000};
}

std::string worker_name(int thread) {
    char host[256] = "host";
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(thread);
}

// One decoder thread: its own connection and recognizer; claims until told to stop.
void decoder_thread(Shared& sh, int index, bool short_only) {
    db::Db db(settings(sh.cfg, "worker"));
    std::unique_ptr<speech::Recognizer> recognizer;  // loaded on the first job (≈125 MB)
    std::string name = worker_name(index);
    bool counted_idle = false;
    while (!sh.stopping.load()) {
        std::optional<db::Job> job;
        try {
            job = db::claim_job(db, name, true, !short_only, sh.cfg.worker_lease_s);
        } catch (const db::DbError& e) {
            core::log_warn(std::string("claim failed: ") + e.what());
        }
        if (!job) {
            if (sh.drain) {
                if (!counted_idle) sh.idle_in_drain.fetch_add(1);
                counted_idle = true;
                return;
            }
            std::unique_lock<std::mutex> lock(sh.mu);
            sh.wake.wait_for(lock, std::chrono::seconds(2));
            continue;
        }
        if (!recognizer) {
            speech::RecognizerConfig rc;
            rc.model_dir = sh.cfg.model_root + "/en-us";
            recognizer = std::make_unique<speech::Recognizer>(rc);
        }
        core::log_info("job " + std::to_string(job->id) + " (" + job->kind + ", session " +
                       job->session_id + ", attempt " + std::to_string(job->attempts) +
                       ") claimed by " + name);
        JobContext ctx{db, sh.cfg, *recognizer, sh.stopping};
        try {
            run_job(ctx, *job);
            core::log_info("job " + std::to_string(job->id) + " finished");
        } catch (const JobInterrupted& e) {
            core::log_warn("job " + std::to_string(job->id) + " interrupted: " + e.what());
        } catch (const std::exception& e) {
            core::log_error("job " + std::to_string(job->id) + " abandoned: " + e.what());
        }
    }
}

// Waits for NOTIFY rostrum_jobs and wakes the threads; announces the worker every 15 s.
void listener_thread(Shared& sh) {
    db::Listener listener(settings(sh.cfg, "worker-listen"), {"rostrum_jobs"});
    db::Db db(settings(sh.cfg, "worker-heartbeat"));
    auto next_beat = std::chrono::steady_clock::now();
    while (!sh.stopping.load()) {
        if (!listener.wait(500).empty() || listener.reconnected()) sh.wake.notify_all();
        if (std::chrono::steady_clock::now() >= next_beat) {
            try {
                db::worker_heartbeat(db, worker_name(0));
                if (int64_t n = db::reap_expired_jobs(db))
                    core::log_warn(std::to_string(n) + " job(s) dead after their workers died");
            } catch (const db::DbError&) {
            }
            next_beat += std::chrono::seconds(15);
        }
    }
}

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

}  // namespace

int run_worker_daemon(const core::Config& cfg, bool drain) {
    core::init_crypto();
    // Threads inherit the blocked mask; the main thread takes the signals synchronously.
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    Shared sh(cfg, drain);
    int n = cfg.worker_threads;
    // Announce ourselves before anything else: /readyz (and stack.sh) wait for this row.
    {
        db::Db db(settings(cfg, "worker-start"));
        db::worker_heartbeat(db, worker_name(0));
    }
    core::log_info("worker " + std::to_string(getpid()) + " starting " + std::to_string(n) +
                   " decoder threads" + (drain ? " (drain)" : "") + ": ready");
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back(decoder_thread, std::ref(sh), i, /*short_only=*/n >= 2 && i == 0);
    std::thread listener;
    if (!drain) listener = std::thread(listener_thread, std::ref(sh));
    if (drain) {
        for (auto& t : threads) t.join();
        core::log_info("worker drained the queue");
        return 0;
    }
    int sig = 0;
    sigwait(&set, &sig);
    core::log_info("worker stopping on signal " + std::to_string(sig) + ": releasing jobs in hand");
    sh.stopping.store(true);
    sh.wake.notify_all();
    for (auto& t : threads) t.join();
    listener.join();
    core::log_info("worker stopped");
    return 0;
}

}  // namespace worker
