// `rostrum` under mod_fcgid (or `rostrum api --fcgid`): one serving process on the inherited
// listening socket, fd 0 (FCGI_LISTENSOCK_FILENO).
#include <fcgiapp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"
#include "core/passwords.h"
#include "fcgi/pool.h"
#include "fcgi/worker.h"

namespace fcgi {
namespace {

// Only a listening socket can be served; anything else on fd 0 (a terminal, a pipe) means we
// were not started by a FastCGI process manager.
bool fd0_listens() {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) {
        core::log_error(std::string("fd 0 is not a socket (") + std::strerror(errno) +
                        "): --fcgid serves the listening socket a FastCGI process manager "
                        "such as mod_fcgid passes as fd 0");
        return false;
    }
    if (!listening) core::log_error("fd 0 is a socket, but not a listening one");
    return listening != 0;
}

}  // namespace

int run_fcgid(const core::Config& cfg, const App& app) {
    if (!fd0_listens()) return 1;
    if (FCGX_Init() != 0) {
        core::log_error("FCGX_Init failed");
        return 1;
    }
    core::init_crypto();
    // As the pool's master does before forking: the first unknown-email login costs no more.
    core::verify_dummy_password("");
    // Our parent is mod_fcgid's process manager: the worker loop ends with it too (its
    // PR_SET_PDEATHSIG), and never counts on a master of ours.
    core::log_info("serving the FastCGI socket on fd 0 (pid " + std::to_string(getpid()) +
                   ", up to " + std::to_string(cfg.api_max_requests) + " requests)");
    return run_worker(cfg, app, STDIN_FILENO, nullptr, 0, getppid(), true);
}

}  // namespace fcgi
