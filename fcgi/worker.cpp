// The worker's accept loop.
#include "fcgi/worker.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/config.h"
#include "core/log.h"
#include "fcgi/audio_front.h"
#include "fcgi/exchange.h"
#include "fcgi/serve.h"

namespace fcgi {
namespace {

// How often an idle worker looks for a stop signal (the accept timeout): the longest an idle
// worker of an old generation lingers after a reload or a drain.
constexpr suseconds_t kAcceptTickUs = 250 * 1000;

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

// SIGTERM (drain, reload, master death) and SIGINT stay blocked for the worker's whole life and
// are only ever taken synchronously, between two requests. A handler would interrupt the
// request in progress: libfcgi does not retry a read or write that fails with EINTR, so an
// upload was cut short ("body shorter than its Content-Length") or a response truncated.
void install_worker_signals() {
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t set = stop_signals();
    sigprocmask(SIG_SETMASK, &set, nullptr);  // the master's other blocked signals: unblocked
}

// True once a stop signal is pending (it is consumed: the caller remembers).
bool stop_requested(const sigset_t& set) {
    const timespec now{0, 0};
    return sigtimedwait(&set, nullptr, &now) > 0;
}

// accept() on the shared listening socket returns EAGAIN after this long without a connection,
// so that an idle worker notices its stop signal without any handler (see above). There is no
// window between the check and a blocking accept: the accept itself is bounded.
bool set_accept_tick(int listen_fd) {
    const timeval tick{0, kAcceptTickUs};
    if (setsockopt(listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick) == 0) return true;
    core::log_error(std::string("setsockopt(SO_RCVTIMEO) on the listening socket: ") +
                    std::strerror(errno));
    return false;
}

}  // namespace

int run_worker(const core::Config& cfg, const App& app, int listen_fd, Scoreboard* board, int slot,
               int master_pid, bool serve_audio) {
    install_worker_signals();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
        core::log_error(std::string("prctl(PR_SET_PDEATHSIG): ") + std::strerror(errno));
        return 71;
    }
    if (getppid() != master_pid) return 0;  // the master died between fork and prctl
    if (!set_accept_tick(listen_fd)) return 71;

    std::unique_ptr<Process> process = app.open(cfg, "api", board);
    Ctx& ctx = process->ctx();
    Router router(app.routes);
    FcgiExchange ex(listen_fd);
    AudioFront front(ex, core::audio_dir(cfg));
    Exchange& served_by = serve_audio ? static_cast<Exchange&>(front) : ex;
    const sigset_t stop = stop_signals();
    uint64_t served = 0;
    int failed_accepts = 0;
    while (served < static_cast<uint64_t>(cfg.api_max_requests) && !stop_requested(stop)) {
        switch (ex.accept()) {
            case FcgiExchange::Accept::idle:
                continue;
            case FcgiExchange::Accept::failed:
                // A broken connection; a socket that keeps failing means something is wrong
                // with us: exit and let the master decide.
                if (++failed_accepts > 1000) return 71;
                continue;
            case FcgiExchange::Accept::request:
                break;
        }
        failed_accepts = 0;
        ServeResult r = serve_one(served_by, ctx, app, router, board, slot);
        ex.finish();
        ++served;
        if (r.fatal) return 70;  // EX_SOFTWARE: the master logs and replaces us
    }
    return 0;
}

}  // namespace fcgi
