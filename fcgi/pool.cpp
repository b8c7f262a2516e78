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
#include <string>
#include <vector>

#include "core/log.h"
#include "core/passwords.h"
#include "fcgi/scoreboard.h"
#include "fcgi/worker.h"
#include "handlers/routes.h"

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
    int listen_fd;
    Scoreboard* board;
    std::vector<Child> children;
    int generation = 0;
    bool stopping = false;
    int fast_deaths = 0;        // consecutive children that died young: the brake's input
    int64_t next_spawn_ms = 0;  // the brake: no spawn before this time
};

constexpr int64_t kYoungMs = 1000;  // a child dying sooner than this counts as crash-looping
constexpr int64_t kMaxBrakeMs = 10000;
constexpr int kDrainSeconds = 30;

std::string route_name(int index) {
    auto routes = handlers::route_table();
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
        core::log_error(std::string("fork failed: ") + std::strerror(errno));
        return;
    }
    if (pid == 0) {
        m.board->slots[slot].pid.store(getpid());
        m.board->slots[slot].route.store(-1);
        m.board->slots[slot].started_ms.store(0);
        _exit(run_worker(m.cfg, m.listen_fd, m.board, slot, master));
    }
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
        line += ", route in flight " + route_name(slot.route.load()) + " (possible request loss)";
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
        int64_t delay = std::min<int64_t>(kMaxBrakeMs, 100LL << std::min(m.fast_deaths, 7));
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
                           route_name(m.board->slots[c.slot].route.load()) + " for " +
                           std::to_string((now - started) / 1000) + "s; killing it");
            kill(c.pid, SIGKILL);
        }
    }
}

void signal_generation(Master& m, int generation_below, int sig) {
    for (const Child& c : m.children)
        if (c.generation < generation_below) kill(c.pid, sig);
}

// New workers start first; the old ones get SIGTERM, finish the request in hand, and exit.
void reload(Master& m) {
    ++m.generation;
    core::log_info("reload: starting generation " + std::to_string(m.generation));
    m.next_spawn_ms = 0;
    m.fast_deaths = 0;
    fill_pool(m);
    signal_generation(m, m.generation, SIGTERM);
}

void drain(Master& m) {
    core::log_info("draining: " + std::to_string(m.children.size()) + " children");
    m.stopping = true;
    signal_generation(m, m.generation + 1, SIGTERM);
    int64_t deadline = monotonic_ms() + kDrainSeconds * 1000;
    while (!m.children.empty() && monotonic_ms() < deadline) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid > 0) bury(m, pid, status);
    }
    signal_generation(m, m.generation + 1, SIGKILL);
    reap(m);
}

int open_socket(const core::Config& cfg) {
    unlink(cfg.api_socket.c_str());  // a stale socket from a crashed run
    int fd = FCGX_OpenSocket(cfg.api_socket.c_str(), 1024);
    if (fd < 0) return -1;
    if (!cfg.api_socket_group.empty()) {
        struct group* g = getgrnam(cfg.api_socket_group.c_str());
        if (!g || chown(cfg.api_socket.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
            core::log_error("cannot give the socket to group " + cfg.api_socket_group);
            return -1;
        }
    }
    chmod(cfg.api_socket.c_str(), 0660);
    return fd;
}

sigset_t master_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, s);
    return set;
}

}  // namespace

int run_pool(const core::Config& cfg) {
    core::init_crypto();
    // The dummy hash that equalises unknown-email logins is computed once here, so that
    // children inherit it and their first such login costs no more than any other.
    core::verify_dummy_password("");
    FCGX_Init();
    int fd = open_socket(cfg);
    if (fd < 0) {
        core::log_error("cannot listen on " + cfg.api_socket + ": " + std::strerror(errno));
        return 1;
    }
    // The master handles its signals synchronously (sigtimedwait): no handler races.
    sigset_t set = master_signals();
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    Master m{cfg, fd, Scoreboard::create_shared(), {}};
    core::log_info("master " + std::to_string(getpid()) + " listening on " + cfg.api_socket +
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
    }
    drain(m);
    unlink(cfg.api_socket.c_str());
    core::log_info("master " + std::to_string(getpid()) + " stopped");
    return 0;
}

}  // namespace fcgi
