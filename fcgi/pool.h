// `rostrum api`: the prefork FastCGI pool. The master opens the socket, forks N workers,
// restarts the dead (with a crash-loop brake), recycles after max_requests, kills workers
// stuck past the request deadline, reloads on SIGHUP and drains on SIGTERM. It writes a diary
// of every child's birth and death.
#pragma once

#include "core/config.h"
#include "fcgi/app.h"

namespace fcgi {

// Runs the master until SIGTERM/SIGINT; returns the process exit code.
int run_pool(const core::Config& cfg, const App& app);

// CGI mode: answers the one request described by the environment and stdin, then returns.
int run_cgi(const core::Config& cfg, const App& app);

// mod_fcgid mode: mod_fcgid made the listening socket (fd 0) and starts, counts and stops the
// processes itself, so there is no master here: this process serves fd 0 alone, with the pool
// worker's loop (stops on SIGTERM between requests, or after api.max_requests), and streams
// audio downloads itself (no X-Accel-Redirect without nginx).
int run_fcgid(const core::Config& cfg, const App& app);

}  // namespace fcgi
