// A pool worker: connect to PostgreSQL after fork, accept and serve until told to stop,
// until max_requests, or until the master dies.
#pragma once

#include "core/config.h"
#include "fcgi/app.h"
#include "fcgi/scoreboard.h"

namespace fcgi {

// Runs in the child; returns its exit code (0: asked to stop or recycled).
int run_worker(const core::Config& cfg, const App& app, int listen_fd, Scoreboard* board, int slot,
               int master_pid);

}  // namespace fcgi
