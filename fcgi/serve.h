// Serving one request end to end; shared by the FastCGI worker loop and CGI mode.
#pragma once

#include "fcgi/app.h"
#include "fcgi/exchange.h"
#include "fcgi/router.h"
#include "fcgi/scoreboard.h"

namespace fcgi {

struct ServeResult {
    bool fatal = false;  // the worker should exit after this request
};

// Reads the request, dispatches it, writes the response, writes the access line, and counts
// it in the scoreboard (if any) under `slot`.
ServeResult serve_one(Exchange& ex, Ctx& ctx, const App& app, const Router& router,
                      Scoreboard* board, int slot);

}  // namespace fcgi
