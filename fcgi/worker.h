// A pool worker: connect to PostgreSQL after fork, accept and serve until told to stop,
// until max_requests, or until the master dies.
#pragma once

#include "core/config.h"
#include "fcgi/app.h"
#include "fcgi/scoreboard.h"

namespace fcgi {

// Runs in the child; returns its exit code (0: asked to stop or recycled).
// `serve_audio`: no nginx in front (mod_fcgid): X-Accel-Redirects are served here (AudioFront).
int run_worker(const core::Config& cfg, const App& app, int listen_fd, Scoreboard* board, int slot,
               int master_pid, bool serve_audio = false);

}  // namespace fcgi
