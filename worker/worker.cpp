// The worker daemon: threads, wake-ups, heartbeats, shutdown.
#include "worker/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/c_handles.h"
#include "core/log.h"
#include "core/passwords.h"
#include "core/process.h"
#include "db/jobs.h"
#include "db/listen.h"
#include "db/settings.h"
#include "worker/budget.h"
#include "worker/lease.h"
#include "worker/pipeline.h"
#include "worker/recognizers.h"
#include "worker/sweep.h"

namespace worker {
namespace {

// Shared by the threads of one daemon; lives on run_worker_daemon's stack.
struct Shared {
    Shared(const core::Config& c, bool d, int64_t until, BudgetSlot& b)
        : cfg(c), drain(d), claim_until_ms(until), budget(b) {}
    const core::Config& cfg;
    bool drain;
    int64_t claim_until_ms;  // --drain: no claim after this (monotonic_ms); 0: no limit
    BudgetSlot& budget;      // this decoder's, shared with the master
    std::atomic<bool> stopping{false};
    std::mutex mu;
    std::condition_variable wake;
};

// The decoders' transactions store whole transcripts: a longer statement timeout than the API's.
constexpr int kStatementTimeoutMs = 60000;

// The locked_by name of a decoder: host:pid:index (the master names its children with it too).
std::string worker_name(pid_t pid, int thread) {
    char host[256] = "host";
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(pid) + ":" + std::to_string(thread);
}

std::string worker_name(int thread) {
    return worker_name(getpid(), thread);
}

// Jobs whose workers died on their last attempt: not claimable any more, so only this marks
// them dead (and their sessions failed). The daemon's listener threads run it periodically;
// --drain has none, so its decoder runs it once the queue is empty.
void reap_dead_jobs(db::Db& db) {
    try {
        if (int64_t n = db::reap_expired_jobs(db))
            core::log_warn(std::to_string(n) + " job(s) dead after their workers died");
    } catch (const db::DbError& e) {
        core::log_warn(std::string("reaping dead jobs failed: ") + e.what());
    }
}

// One decoder thread: its own connection and recognizer; claims until told to stop.
void decoder_thread(Shared& sh, int index, bool short_only) {
    db::Db db(db::db_settings(sh.cfg, "worker", kStatementTimeoutMs));
    // en-us loaded up front; a session in another language loads its own (worker/recognizers.h).
    Recognizers recognizers(sh.cfg.model_root);
    // A renewal must not hang past the lease it extends.
    LeaseKeeper keeper(db::db_settings(sh.cfg, "worker-lease", sh.cfg.worker_lease_s * 1000 / 3),
                       sh.cfg.worker_lease_s);
    std::string name = worker_name(index);
    JobBudget budget(sh.budget, sh.cfg);
    while (!sh.stopping.load()) {
        if (sh.claim_until_ms && monotonic_ms() >= sh.claim_until_ms) {
            core::log_info("decoder " + std::to_string(index) +
                           ": the drain's time budget (worker.drain_budget_s = " +
                           std::to_string(sh.cfg.worker_drain_budget_s) +
                           " s) is spent; claiming no more jobs");
            reap_dead_jobs(db);
            return;
        }
        std::optional<db::Job> job;
        bool claimed_nothing = true;
        try {
            job = db::claim_job(db, name, true, !short_only, sh.cfg.worker_lease_s);
        } catch (const db::DbError& e) {
            claimed_nothing = false;  // unknown: PostgreSQL is away, the queue may be full
            core::log_warn(std::string("claim failed: ") + e.what());
        }
        if (!job) {
            if (sh.drain && claimed_nothing) {  // nothing claimable is left
                reap_dead_jobs(db);
                return;
            }
            std::unique_lock<std::mutex> lock(sh.mu);
            sh.wake.wait_for(lock, std::chrono::seconds(2));
            continue;
        }
        core::log_info("job " + std::to_string(job->id) + " (" + job->kind + ", session " +
                       job->session_id + ", attempt " + std::to_string(job->attempts) +
                       ") claimed by " + name);
        HeldJob held(keeper, *job);
        BudgetedJob budgeted(budget, job->id);
        JobContext ctx{
            db,          sh.cfg,        recognizers,
            sh.stopping, keeper.lost(), [&budget](double s) { budget.audio_seconds(s); }};
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
    db::Listener listener(db::db_settings(sh.cfg, "worker-listen", kStatementTimeoutMs),
                          {"rostrum_jobs"});
    db::Db db(db::db_settings(sh.cfg, "worker-heartbeat", kStatementTimeoutMs));
    auto next_beat = std::chrono::steady_clock::now();
    while (!sh.stopping.load()) {
        if (!listener.wait(500).empty() || listener.reconnected()) sh.wake.notify_all();
        if (std::chrono::steady_clock::now() >= next_beat) {
            try {
                db::worker_heartbeat(db, worker_name(0));
            } catch (const db::DbError&) {
            }
            reap_dead_jobs(db);
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
int run_decoder_process(const core::Config& cfg, bool drain, int64_t claim_until_ms, int index,
                        int count, BudgetSlot& budget) {
    core::init_crypto();
    // Threads inherit the blocked mask; the main thread takes the signals synchronously.
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    Shared sh(cfg, drain, claim_until_ms, budget);
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
    int64_t killed_for_job = 0;  // the job whose budget it overran (the master killed it)
};

// A decoder to start at due_ms: after a failed fork, or a death (the crash-loop brake).
struct PendingStart {
    int index;
    int64_t due_ms;
};

// Forks one decoder; returns the child's pid, or -1 with errno set when fork() failed.
pid_t spawn_decoder(const core::Config& cfg, bool drain, int64_t claim_until_ms, int index,
                    int count, BudgetSlot& budget) {
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        // The master killed means the worker killed: decoders die at once too, and their jobs
        // run again after the lease (SIGTERM to the master is the graceful way).
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
            core::log_error(std::string("prctl(PR_SET_PDEATHSIG): ") + std::strerror(errno));
            _exit(71);
        }
        if (getppid() != master) {  // the master died between fork and prctl
            core::log_warn("decoder " + std::to_string(index) +
                           ": the master died before it could be followed; exiting");
            _exit(0);
        }
        // An exception that escapes (a recognizer that cannot load: an unwritable temp
        // directory, a missing model) is said in the log, not left to std::terminate's abort.
        try {
            _exit(run_decoder_process(cfg, drain, claim_until_ms, index, count, budget));
        } catch (const std::exception& e) {
            core::log_error("decoder " + std::to_string(index) + " stopped: " + e.what());
            _exit(70);
        }
    }
    return pid;
}

// 100 ms, doubled per consecutive failure, at most 10 s.
int64_t brake_ms(int64_t failures) {
    return std::min<int64_t>(10000, 100LL << std::min<int64_t>(failures, 7));
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

// The master's state: its decoder processes, their job budgets and how their deaths went.
class Supervisor {
  public:
    Supervisor(const core::Config& cfg, bool drain)
        : cfg_(cfg),
          drain_(drain),
          claim_until_ms_(drain ? monotonic_ms() + int64_t{cfg.worker_drain_budget_s} * 1000 : 0),
          db_(db::db_settings(cfg, "worker-master", 5000)),
          budgets_(BudgetBoard::create_shared()) {}

    void start() {
        for (int i = 0; i < cfg_.worker_threads; ++i) spawn(i);
    }
    // Nothing running and nothing left to start.
    bool done() const { return children_.empty() && (stopping_ || pending_.empty()); }

    void stop() {
        stopping_ = true;
        pending_.clear();
        for (const Child& c : children_) core::signal_child(c.pid, SIGTERM);
    }

    // Between signals: decoders past their job's budget killed, due starts made.
    void tick() {
        enforce_budgets();
        start_due();
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
            Child c = *it;
            children_.erase(it);
            budgets_->slots[c.index].job_id.store(0);  // its replacement starts clean
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
            // Drain mode reports any death (cron must notice); a daemon only one during its stop
            // (a decoder that crashed instead of finishing or releasing its job).
            if (drain_ || stopping_) abnormal_ = true;
            if (c.killed_for_job) {
                fail_overrun_job(c);
            } else {
                core::log_error("decoder " + std::to_string(c.index) + " (pid " +
                                std::to_string(pid) + ") " + death_text(status) + ", " +
                                held_job_text(db_, pid, c.index));
            }
            db_.disconnect();  // the next fork must not inherit the connection
            if (!stopping_) restart(c.index);
        }
    }

    int exit_code() const { return abnormal_ ? 1 : 0; }

    // How long the master may wait for a signal before tick() has something to do.
    int64_t wait_ms() const {
        int64_t wait = 200;  // the budget check's resolution
        for (const PendingStart& p : pending_)
            wait = std::min(wait, std::max<int64_t>(0, p.due_ms - monotonic_ms()));
        return wait;
    }

  private:
    void spawn(int index) {
        pid_t pid = spawn_decoder(cfg_, drain_, claim_until_ms_, index, cfg_.worker_threads,
                                  budgets_->slots[index]);
        if (pid < 0) {
            // Out of processes or memory: nothing is recorded as a child (a -1 "child" would
            // later be signalled as kill(-1, …): every process on the host); retried later.
            std::string why = std::strerror(errno);
            int64_t delay = brake_ms(fork_failures_++);
            if (drain_) abnormal_ = true;
            core::log_error("decoder " + std::to_string(index) + ": fork failed: " + why +
                            "; next attempt in " + std::to_string(delay) + " ms");
            pending_.push_back({index, monotonic_ms() + delay});
            return;
        }
        fork_failures_ = 0;
        children_.push_back({pid, index});
    }

    void restart(int index) {
        // A crash-loop brake: a decoder that keeps dying is restarted ever more slowly. The
        // master keeps taking signals meanwhile (SIGTERM during the brake stops at once).
        pending_.push_back({index, monotonic_ms() + brake_ms(fast_restarts_++)});
    }

    void start_due() {
        if (stopping_) return;
        int64_t now = monotonic_ms();
        std::vector<PendingStart> due;
        auto it = std::partition(pending_.begin(), pending_.end(),
                                 [now](const PendingStart& p) { return p.due_ms > now; });
        due.assign(it, pending_.end());
        pending_.erase(it, pending_.end());
        for (const PendingStart& p : due) spawn(p.index);
    }

    // A decoder still on its job past the budget is hung (its lease keeper would renew the job
    // forever): SIGKILL; reap() then fails the job like a crash.
    void enforce_budgets() {
        int64_t now = monotonic_ms();
        for (Child& c : children_) {
            if (c.killed_for_job) continue;
            const BudgetSlot& slot = budgets_->slots[c.index];
            int64_t job = job_over_budget(slot, now);
            if (!job) continue;
            core::log_error("decoder " + std::to_string(c.index) + " (pid " +
                            std::to_string(c.pid) + ") is past the budget of job " +
                            std::to_string(job) + " (" +
                            std::to_string(slot.budget_ms.load() / 1000) + " s): killing it");
            if (core::signal_child(c.pid, SIGKILL)) c.killed_for_job = job;
        }
    }

    // The job of a decoder killed past its budget: failed now (retried after its backoff, or
    // dead at max_attempts), not left to wait for its lease.
    void fail_overrun_job(const Child& c) {
        std::string error =
            "the job ran past its time budget (worker.job_budget_base_s + "
            "worker.job_budget_factor × its audio duration)";
        try {
            auto job = db::job_held_by(db_, worker_name(c.pid, c.index));
            if (job && job->id == c.killed_for_job) {
                record_job_failure(db_, *job, error, "", false);
                return;
            }
            core::log_warn("job " + std::to_string(c.killed_for_job) +
                           ": no longer held by the killed decoder (nothing to fail)");
        } catch (const db::DbError& e) {
            core::log_error("job " + std::to_string(c.killed_for_job) +
                            " could not be failed (it runs again after its lease): " + e.what());
        }
    }

    const core::Config& cfg_;
    bool drain_;
    int64_t claim_until_ms_;  // --drain's time budget, the same deadline for every decoder
    db::Db db_;  // to name the job of a dead decoder in the log, and fail an overrun one
    BudgetBoard* budgets_;
    std::vector<Child> children_;
    std::vector<PendingStart> pending_;
    bool stopping_ = false;
    bool abnormal_ = false;
    int64_t fast_restarts_ = 0;
    int64_t fork_failures_ = 0;
};

// Where cron's runs of --drain take turns: <data>/run/worker-drain.lock. run/ is the service
// user's under stack.sh (the data dir itself is root's when started as root); on a shared
// host it may not exist yet, and is made here.
std::string drain_lock_path(const core::Config& cfg) {
    if (::mkdir(cfg.run_dir.c_str(), 0750) != 0 && errno != EEXIST)
        core::log_warn("mkdir " + cfg.run_dir + ": " + std::strerror(errno));
    return cfg.run_dir + "/worker-drain.lock";
}

enum class DrainLock { taken, busy, failed };

// flock(2) on the lock file, without waiting. The lock belongs to the open file: the decoders
// inherit it across fork, and the kernel drops it when the last of them ends, however they end
// (a run killed by cron's timeout or the OOM killer leaves nothing stale behind).
DrainLock take_drain_lock(const std::string& path, const core::Fd& fd) {
    if (fd.get() < 0) {
        core::log_error("cannot open the drain lock " + path + ": " + std::strerror(errno));
        return DrainLock::failed;
    }
    for (;;) {
        if (flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return DrainLock::taken;
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return DrainLock::busy;
        core::log_error("flock " + path + ": " + std::strerror(errno));
        return DrainLock::failed;
    }
}

}  // namespace

int run_worker_daemon(const core::Config& cfg, bool drain) {
    // Two drains never overlap (cron starts one a minute; a long job outlasts the minute).
    std::string lock_path = drain_lock_path(cfg);
    core::Fd lock(drain ? ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)
                        : -1);
    if (drain) {
        switch (take_drain_lock(lock_path, lock)) {
            case DrainLock::taken:
                break;
            case DrainLock::busy:
                core::log_info("another worker --drain holds " + lock_path +
                               ": nothing to do, exiting");
                return 0;
            case DrainLock::failed:
                return 1;
        }
    }
    // Announce ourselves before anything else: /readyz (and stack.sh) wait for this row.
    {
        db::Db db(db::db_settings(cfg, "worker-start", kStatementTimeoutMs));
        db::worker_heartbeat(db, worker_name(0));
    }
    sigset_t set = stop_signals();
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    Supervisor supervisor(cfg, drain);
    supervisor.start();
    AudioSweeper sweeper(cfg);  // orphan audio, in daemon and drain mode (worker/sweep.h)
    core::log_info("worker " + std::to_string(getpid()) + " starting " +
                   std::to_string(cfg.worker_threads) + " decoder processes" +
                   (drain ? " (drain)" : "") + ": ready");
    while (!supervisor.done()) {
        int64_t wait = supervisor.wait_ms();
        const timespec tick{wait / 1000, (wait % 1000) * 1000 * 1000};
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) supervisor.stop();
        supervisor.reap();
        supervisor.tick();
    }
    int code = supervisor.exit_code();
    core::log_info(std::string(drain ? "worker drained the queue" : "worker stopped") +
                   (code ? " (a decoder died: exit code 1)" : ""));
    return code;
}

}  // namespace worker
