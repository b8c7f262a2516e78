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
#include "worker/lease.h"
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

db::DbSettings settings(const core::Config& cfg, const std::string& role,
                        int statement_timeout_ms = 60000) {
    core::DbLogin login = core::app_db_login(cfg);
    return db::DbSettings{login.conninfo, role + "-" + std::to_string(getpid()),
                          cfg.db_connect_timeout_s, statement_timeout_ms, login.user};
}

// The locked_by name of a decoder: host:pid:index (the master names its children with it too).
std::string worker_name(pid_t pid, int thread) {
    char host[256] = "host";
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(pid) + ":" + std::to_string(thread);
}

std::string worker_name(int thread) {
    return worker_name(getpid(), thread);
}

// One decoder thread: its own connection and recognizer; claims until told to stop.
void decoder_thread(Shared& sh, int index, bool short_only) {
    db::Db db(settings(sh.cfg, "worker"));
    // Loaded up front (≈125 MB, a few seconds): the first upload should not wait for it.
    speech::RecognizerConfig rc;
    rc.model_dir = sh.cfg.model_root + "/en-us";
    auto recognizer = std::make_unique<speech::Recognizer>(rc);
    // A renewal must not hang past the lease it extends.
    LeaseKeeper keeper(settings(sh.cfg, "worker-lease", sh.cfg.worker_lease_s * 1000 / 3),
                       sh.cfg.worker_lease_s);
    std::string name = worker_name(index);
    while (!sh.stopping.load()) {
        std::optional<db::Job> job;
        bool claimed_nothing = true;
        try {
            job = db::claim_job(db, name, true, !short_only, sh.cfg.worker_lease_s);
        } catch (const db::DbError& e) {
            claimed_nothing = false;  // unknown: PostgreSQL is away, the queue may be full
            core::log_warn(std::string("claim failed: ") + e.what());
        }
        if (!job) {
            if (sh.drain && claimed_nothing) return;  // nothing claimable is left
            std::unique_lock<std::mutex> lock(sh.mu);
            sh.wake.wait_for(lock, std::chrono::seconds(2));
            continue;
        }
        core::log_info("job " + std::to_string(job->id) + " (" + job->kind + ", session " +
                       job->session_id + ", attempt " + std::to_string(job->attempts) +
                       ") claimed by " + name);
        HeldJob held(keeper, *job);
        JobContext ctx{db, sh.cfg, *recognizer, sh.stopping, keeper.lost()};
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

// Waits for SIGTERM/SIGINT; in drain mode also returns once the decoder ran out of work.
// Returns the signal, or 0 when drained.
int wait_for_stop(const sigset_t& set, const std::atomic<bool>& drained) {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!drained.load()) {
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig > 0) return sig;
    }
    return 0;
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
    std::atomic<bool> drained{false};
    // Decoder 0 serves only the short lane when there are others: a short clip never waits.
    std::thread decoder([&] {
        decoder_thread(sh, index, count >= 2 && index == 0);
        drained.store(true);
    });
    std::thread listener;
    if (!drain) listener = std::thread(listener_thread, std::ref(sh));
    // Drain mode too stops on SIGTERM (releasing the job in hand) instead of finishing the queue.
    if (int sig = wait_for_stop(set, drained)) {
        core::log_info("worker stopping on signal " + std::to_string(sig) +
                       ": releasing jobs in hand");
        sh.stopping.store(true);
        sh.wake.notify_all();
    }
    decoder.join();
    if (listener.joinable()) listener.join();
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

// How a child ended, for the log: "died on signal 9", "exited with code 1".
std::string death_text(int status) {
    if (WIFSIGNALED(status)) return "died on signal " + std::to_string(WTERMSIG(status));
    return "exited with code " + std::to_string(WEXITSTATUS(status));
}

// The job a dead decoder held (still `running` under its name until the lease expires).
std::string held_job_text(db::Db& db, pid_t pid, int index) {
    try {
        auto job = db::job_held_by(db, worker_name(pid, index));
        if (!job) return "no job in hand";
        return "holding job " + std::to_string(job->id) + " (session " + job->session_id +
               ", attempt " + std::to_string(job->attempts) + ", runs again after its lease)";
    } catch (const db::DbError& e) {
        return std::string("its job unknown: ") + e.what();
    }
}

// The master's state: its decoder processes and how their deaths went.
class Supervisor {
  public:
    Supervisor(const core::Config& cfg, bool drain)
        : cfg_(cfg), drain_(drain), db_(settings(cfg, "worker-master", 5000)) {}

    void start() {
        for (int i = 0; i < cfg_.worker_threads; ++i) spawn(i);
    }
    bool empty() const { return children_.empty(); }

    void stop() {
        stopping_ = true;
        for (const Child& c : children_) kill(c.pid, SIGTERM);
    }

    // Reaps every child that ended; a decoder that died is replaced unless the worker stops
    // (in drain mode too: the rest of the queue still gets processed).
    void reap() {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            auto it = std::find_if(children_.begin(), children_.end(),
                                   [pid](const Child& c) { return c.pid == pid; });
            if (it == children_.end()) continue;
            int index = it->index;
            children_.erase(it);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
            // Drain mode reports any death (cron must notice); a daemon only one during its stop
            // (a decoder that crashed instead of finishing or releasing its job).
            if (drain_ || stopping_) abnormal_ = true;
            core::log_error("decoder " + std::to_string(index) + " (pid " + std::to_string(pid) +
                            ") " + death_text(status) + ", " + held_job_text(db_, pid, index));
            db_.disconnect();  // the next fork must not inherit the connection
            if (!stopping_) restart(index);
        }
    }

    int exit_code() const { return abnormal_ ? 1 : 0; }

  private:
    void spawn(int index) {
        children_.push_back({spawn_decoder(cfg_, drain_, index, cfg_.worker_threads), index});
    }

    void restart(int index) {
        // A crash-loop brake: a decoder that keeps dying is restarted ever more slowly.
        std::this_thread::sleep_for(std::chrono::milliseconds(
            std::min<int64_t>(10000, 100LL << std::min<int64_t>(fast_restarts_++, 7))));
        spawn(index);
    }

    const core::Config& cfg_;
    bool drain_;
    db::Db db_;  // only to name the job of a dead decoder in the log
    std::vector<Child> children_;
    bool stopping_ = false;
    bool abnormal_ = false;
    int64_t fast_restarts_ = 0;
};

}  // namespace

int run_worker_daemon(const core::Config& cfg, bool drain) {
    // Announce ourselves before anything else: /readyz (and stack.sh) wait for this row.
    {
        db::Db db(settings(cfg, "worker-start"));
        db::worker_heartbeat(db, worker_name(0));
    }
    sigset_t set = stop_signals();
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    Supervisor supervisor(cfg, drain);
    supervisor.start();
    core::log_info("worker " + std::to_string(getpid()) + " starting " +
                   std::to_string(cfg.worker_threads) + " decoder processes" +
                   (drain ? " (drain)" : "") + ": ready");
    while (!supervisor.empty()) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig == SIGCHLD) {
            supervisor.reap();
        } else {
            supervisor.stop();
        }
    }
    int code = supervisor.exit_code();
    core::log_info(std::string(drain ? "worker drained the queue" : "worker stopped") +
                   (code ? " (a decoder died: exit code 1)" : ""));
    return code;
}

}  // namespace worker
