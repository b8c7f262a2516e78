// The worker daemon: threads, wake-ups, heartbeats, shutdown.
#include "worker/worker.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

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
    // Loaded up front (≈125 MB, a few seconds): the first upload should not wait for it.
    speech::RecognizerConfig rc;
    rc.model_dir = sh.cfg.model_root + "/en-us";
    auto recognizer = std::make_unique<speech::Recognizer>(rc);
    std::string name = worker_name(index);
    while (!sh.stopping.load()) {
        std::optional<db::Job> job;
        try {
            job = db::claim_job(db, name, true, !short_only, sh.cfg.worker_lease_s);
        } catch (const db::DbError& e) {
            core::log_warn(std::string("claim failed: ") + e.what());
        }
        if (!job) {
            if (sh.drain) return;  // nothing claimable is left
            std::unique_lock<std::mutex> lock(sh.mu);
            sh.wake.wait_for(lock, std::chrono::seconds(2));
            continue;
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

// One decoder process: the threads share nothing but this process's memory, so with pocketsphinx
// 5prealpha (whose language-model code is not safe with two decoders in one process: it
// crashed in bitarr_read_int25 within a few jobs) each decoder gets a process of its own.
int run_decoder_process(const core::Config& cfg, bool drain, int index, int count) {
    core::init_crypto();
    // Threads inherit the blocked mask; the main thread takes the signals synchronously.
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    Shared sh(cfg, drain);
    core::log_info("decoder " + std::to_string(index) + " (pid " + std::to_string(getpid()) +
                   ") started" + (drain ? " (drain)" : ""));
    // Decoder 0 serves only the short lane when there are others: a short clip never waits.
    std::thread decoder(decoder_thread, std::ref(sh), index, count >= 2 && index == 0);
    std::thread listener;
    if (!drain) listener = std::thread(listener_thread, std::ref(sh));
    if (drain) {
        decoder.join();
        return 0;
    }
    int sig = 0;
    sigwait(&set, &sig);
    core::log_info("worker stopping on signal " + std::to_string(sig) + ": releasing jobs in hand");
    sh.stopping.store(true);
    sh.wake.notify_all();
    decoder.join();
    listener.join();
    return 0;
}

struct Child {
    pid_t pid;
    int index;
};

pid_t spawn_decoder(const core::Config& cfg, bool drain, int index, int count) {
    pid_t pid = fork();
    if (pid == 0) {
        // The master killed means the worker killed: decoders die at once too, and their jobs
        // run again after the lease (SIGTERM to the master is the graceful way).
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(run_decoder_process(cfg, drain, index, count));
    }
    return pid;
}

}  // namespace

int run_worker_daemon(const core::Config& cfg, bool drain) {
    int count = cfg.worker_threads;
    // Announce ourselves before anything else: /readyz (and stack.sh) wait for this row.
    {
        db::Db db(settings(cfg, "worker-start"));
        db::worker_heartbeat(db, worker_name(0));
    }
    sigset_t set = stop_signals();
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    std::vector<Child> children;
    for (int i = 0; i < count; ++i) children.push_back({spawn_decoder(cfg, drain, i, count), i});
    core::log_info("worker " + std::to_string(getpid()) + " starting " + std::to_string(count) +
                   " decoder processes" + (drain ? " (drain)" : "") + ": ready");
    bool stopping = false;
    int64_t fast_restarts = 0;
    while (!children.empty()) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig != SIGCHLD) {
            stopping = true;
            for (const Child& c : children) kill(c.pid, SIGTERM);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            auto it = std::find_if(children.begin(), children.end(),
                                   [pid](const Child& c) { return c.pid == pid; });
            if (it == children.end()) continue;
            int index = it->index;
            children.erase(it);
            bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!clean)
                core::log_warn(
                    "decoder " + std::to_string(index) + " (pid " + std::to_string(pid) + ") died" +
                    (WIFSIGNALED(status) ? " on signal " + std::to_string(WTERMSIG(status))
                                         : " with code " + std::to_string(WEXITSTATUS(status))) +
                    "; its job runs again after the lease");
            if (!stopping && !drain && !clean) {
                // A crash-loop brake: a decoder that keeps dying is restarted ever more slowly.
                std::this_thread::sleep_for(std::chrono::milliseconds(
                    std::min<int64_t>(10000, 100LL << std::min<int64_t>(fast_restarts++, 7))));
                children.push_back({spawn_decoder(cfg, drain, index, count), index});
            }
        }
    }
    core::log_info(drain ? "worker drained the queue" : "worker stopped");
    return 0;
}

}  // namespace worker
