// The prefork master (php-fpm's model): spawn, reap, respawn with a brake, recycle, reload,
// drain, and a diary line for every child.
#include "fcgi/pool.h"

#include <fcgiapp.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/passwords.h"
#include "core/process.h"
#include "fcgi/scoreboard.h"
#include "fcgi/worker.h"

namespace fcgi {
namespace {

struct Child {
    pid_t pid = 0;
    int slot = -1;
    int generation = 0;
    int64_t started_ms = 0;
};

// The master's state; lives on run_pool's stack.
struct Master {
    const core::Config& cfg;
    const App& app;
    int listen_fd;
    Scoreboard* board;
    std::vector<Child> children;
    int generation = 0;
    int retired = 0;  // generations below this one were told to stop (SIGTERM)
    bool stopping = false;
    int fast_deaths = 0;        // consecutive children that died young: the brake's input
    int fork_failures = 0;      // consecutive failed fork()s: the same brake for retries
    int64_t next_spawn_ms = 0;  // the brake: no spawn before this time
};

constexpr int64_t kYoungMs = 1000;  // a child dying sooner than this counts as crash-looping
constexpr int64_t kMaxBrakeMs = 10000;
// After SIGKILL: how long to wait for the kernel to end the stragglers (a process in an
// uninterruptible sleep ends only when its I/O does).
constexpr int64_t kKillWaitMs = 5000;

// 100 ms, doubled per consecutive failure, at most kMaxBrakeMs.
int64_t brake_ms(int failures) {
    return std::min<int64_t>(kMaxBrakeMs, 100LL << std::min(failures, 7));
}

std::string route_name(const Master& m, int index) {
    std::span<const Route> routes = m.app.routes;
    if (index >= 0 && index < static_cast<int>(routes.size())) return routes[index].name;
    return "-";
}

int free_slot(const Master& m) {
    for (int s = 0; s < kMaxWorkers; ++s) {
        bool used = std::any_of(m.children.begin(), m.children.end(),
                                [s](const Child& c) { return c.slot == s; });
        if (!used) return s;
    }
    return -1;
}

void spawn(Master& m) {
    int slot = free_slot(m);
    if (slot < 0) return;
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        // Out of processes or memory: nothing is recorded as a child; retried with back-off.
        int64_t delay = brake_ms(m.fork_failures++);
        m.next_spawn_ms = monotonic_ms() + delay;
        core::log_error(std::string("fork failed: ") + std::strerror(errno) + "; next attempt in " +
                        std::to_string(delay) + " ms");
        return;
    }
    if (pid == 0) {
        m.board->slots[slot].pid.store(getpid());
        m.board->slots[slot].route.store(-1);
        m.board->slots[slot].started_ms.store(0);
        _exit(run_worker(m.cfg, m.app, m.listen_fd, m.board, slot, master));
    }
    m.fork_failures = 0;
    m.children.push_back({pid, slot, m.generation, monotonic_ms()});
    m.board->worker_starts.fetch_add(1);
    core::log_info("child " + std::to_string(pid) + " started (slot " + std::to_string(slot) +
                   ", generation " + std::to_string(m.generation) + ")");
}

int current_children(const Master& m) {
    return static_cast<int>(
        std::count_if(m.children.begin(), m.children.end(),
                      [&](const Child& c) { return c.generation == m.generation; }));
}

// Describes how a child ended and whether that was planned.
std::string describe_exit(int status, bool& planned) {
    planned = false;
    if (WIFSIGNALED(status))
        return "exited on signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    int code = WEXITSTATUS(status);
    planned = code == 0;
    return "exited with code " + std::to_string(code);
}

void bury(Master& m, pid_t pid, int status) {
    auto it = std::find_if(m.children.begin(), m.children.end(),
                           [pid](const Child& c) { return c.pid == pid; });
    if (it == m.children.end()) return;
    Child c = *it;
    m.children.erase(it);
    WorkerSlot& slot = m.board->slots[c.slot];
    int64_t uptime = monotonic_ms() - c.started_ms;
    bool planned = false;
    std::string how = describe_exit(status, planned);
    bool busy = slot.started_ms.load() != 0;
    std::string line = "child " + std::to_string(pid) + " " + how + " after " +
                       std::to_string(uptime / 1000.0).substr(0, 6) + "s, " +
                       std::to_string(slot.served.load()) + " requests";
    if (busy)
        line +=
            ", route in flight " + route_name(m, slot.route.load()) + " (possible request loss)";
    slot.pid.store(0);
    slot.route.store(-1);
    slot.started_ms.store(0);
    slot.served.store(0);
    bool replace = !m.stopping && c.generation == m.generation;
    if (planned && !busy) {
        if (replace) m.board->worker_recycles.fetch_add(1);
        core::log_info(line + (replace ? "; recycled" : ""));
    } else {
        m.board->worker_restarts.fetch_add(1);
        core::log_warn(line);
    }
    if (!replace) return;
    if (uptime < kYoungMs && !planned) {
        ++m.fast_deaths;
        int64_t delay = brake_ms(m.fast_deaths);
        m.next_spawn_ms = monotonic_ms() + delay;
        core::log_warn("crash-loop brake: next start in " + std::to_string(delay) + " ms");
    } else {
        m.fast_deaths = 0;
    }
}

void reap(Master& m) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) bury(m, pid, status);
}

void fill_pool(Master& m) {
    if (m.stopping || monotonic_ms() < m.next_spawn_ms) return;
    while (current_children(m) < m.cfg.api_workers) {
        size_t before = m.children.size();
        spawn(m);
        if (m.children.size() == before) return;
    }
}

// Kills workers stuck in one request past the deadline (nginx has long given up on them).
void enforce_deadline(Master& m) {
    int64_t now = monotonic_ms();
    int64_t limit = static_cast<int64_t>(m.cfg.api_request_timeout_s) * 1000;
    for (const Child& c : m.children) {
        int64_t started = m.board->slots[c.slot].started_ms.load();
        if (started != 0 && now - started > limit) {
            core::log_warn("child " + std::to_string(c.pid) + " stuck in route " +
                           route_name(m, m.board->slots[c.slot].route.load()) + " for " +
                           std::to_string((now - started) / 1000) + "s; killing it");
            core::signal_child(c.pid, SIGKILL);
        }
    }
}

void signal_generation(Master& m, int generation_below, int sig) {
    for (const Child& c : m.children)
        if (c.generation < generation_below) core::signal_child(c.pid, sig);
}

// New workers start first; the old ones get SIGTERM once the new generation is complete
// (retire_old_generation), finish the request in hand, and exit.
void reload(Master& m) {
    ++m.generation;
    core::log_info("reload: starting generation " + std::to_string(m.generation));
    m.next_spawn_ms = 0;
    m.fast_deaths = 0;
    m.fork_failures = 0;
    fill_pool(m);
}

// Until the new generation is complete (a fork may fail and be retried), the old one serves.
void retire_old_generation(Master& m) {
    if (m.retired >= m.generation || current_children(m) < m.cfg.api_workers) return;
    signal_generation(m, m.generation, SIGTERM);
    m.retired = m.generation;
}

// Waits for SIGCHLD (blocked in the master) at most until deadline_ms, burying whoever ended.
void reap_until(Master& m, int64_t deadline_ms) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (reap(m); !m.children.empty(); reap(m)) {
        int64_t left = deadline_ms - monotonic_ms();
        if (left <= 0) return;
        const timespec wait{left / 1000, (left % 1000) * 1000 * 1000};
        sigtimedwait(&chld, nullptr, &wait);
    }
}

// SIGTERM to every child; whoever is still there at api.drain_timeout_s (stuck in a request,
// stopped, ignoring the signal) is killed, and the kill is logged.
void drain(Master& m) {
    core::log_info("draining: " + std::to_string(m.children.size()) + " children");
    m.stopping = true;
    signal_generation(m, m.generation + 1, SIGTERM);
    reap_until(m, monotonic_ms() + int64_t{m.cfg.api_drain_timeout_s} * 1000);
    if (m.children.empty()) return;
    for (const Child& c : m.children) {
        const WorkerSlot& slot = m.board->slots[c.slot];
        bool busy = slot.started_ms.load() != 0;
        core::log_warn("drain deadline (" + std::to_string(m.cfg.api_drain_timeout_s) +
                       " s) passed: killing child " + std::to_string(c.pid) +
                       (busy ? " (route in flight " + route_name(m, slot.route.load()) + ")" : ""));
        core::signal_child(c.pid, SIGKILL);
    }
    reap_until(m, monotonic_ms() + kKillWaitMs);
    for (const Child& c : m.children)
        core::log_error("child " + std::to_string(c.pid) + " did not end after SIGKILL");
}

// Throws (the message says why) when the socket cannot be had: another instance serves it,
// something else is at its path, or it cannot be created.
int open_socket(const core::Config& cfg) {
    core::claim_socket_path(cfg.api_socket);  // removes only a stale socket
    int fd = FCGX_OpenSocket(cfg.api_socket.c_str(), 1024);
    if (fd < 0)
        throw std::runtime_error("cannot listen on " + cfg.api_socket + ": " +
                                 std::strerror(errno));
    if (!cfg.api_socket_group.empty()) {
        struct group* g = getgrnam(cfg.api_socket_group.c_str());
        if (!g || chown(cfg.api_socket.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
            throw std::runtime_error("cannot give the socket to group " + cfg.api_socket_group);
    }
    if (chmod(cfg.api_socket.c_str(), 0660) != 0)
        throw std::runtime_error("chmod " + cfg.api_socket + ": " + std::strerror(errno));
    return fd;
}

sigset_t master_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, s);
    return set;
}

}  // namespace

int run_pool(const core::Config& cfg, const App& app) {
    core::init_crypto();
    // The dummy hash that equalises unknown-email logins is computed once here, so that
    // children inherit it and their first such login costs no more than any other.
    core::verify_dummy_password("");
    FCGX_Init();
    int fd = -1;
    // Socket activation (the rostrum-api.socket unit) hands over a listener that systemd made
    // with the unit's owner, group and mode; the path is then systemd's, not ours to remove.
    bool own_path = false;
    try {
        fd = core::inherited_listener();
        if (fd < 0) {
            fd = open_socket(cfg);
            own_path = true;
        }
    } catch (const std::exception& e) {
        core::log_error(e.what());
        return 1;
    }
    // The master handles its signals synchronously (sigtimedwait): no handler races.
    sigset_t set = master_signals();
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    Master m{cfg, app, fd, Scoreboard::create_shared(), {}};
    core::log_info("master " + std::to_string(getpid()) + " listening on " +
                   (own_path ? cfg.api_socket : std::string("the socket systemd passed")) +
                   " with " + std::to_string(cfg.api_workers) + " workers");
    fill_pool(m);
    for (;;) {
        struct timespec tick {
            0, 200 * 1000 * 1000
        };
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) break;
        if (sig == SIGHUP) reload(m);
        reap(m);
        enforce_deadline(m);
        fill_pool(m);
        retire_old_generation(m);
    }
    drain(m);
    if (own_path) unlink(cfg.api_socket.c_str());
    core::log_info("master " + std::to_string(getpid()) + " stopped");
    return 0;
}

}  // namespace fcgi
