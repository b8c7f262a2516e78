// `rostrum live`: the WebSocket daemon (vosk-compatible /ws/transcribe, /ws/events) on a unix
// socket that nginx proxies /ws/ to. See live/server.h for the design.
#pragma once

#include "core/config.h"

namespace live {

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_live_daemon(const core::Config& cfg);

}  // namespace live
