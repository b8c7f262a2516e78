// The plain HTTP side of the live daemon's socket: /readyz, /metrics, and upgrade requests,
// which are checked (token, origin, parameters, the user's row) and refused with problem+json
// or upgraded into a WsSession. No WebSocket exists before that check passes.
#pragma once

#include "live/ws_session.h"

namespace live {

// Reads one request from `sock` and answers or upgrades it (on the I/O thread).
void serve_http(Server& srv, Local::socket sock);

}  // namespace live
