// dispatch(): route → flags (auth, role, body kind) → handler, and THE one place where
// errors become responses.
#pragma once

#include "fcgi/app.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"
#include "fcgi/scoreboard.h"

namespace fcgi {

struct Outcome {
    Response response;
    int route_index = -1;  // for metrics; -1 when no route matched
    bool fatal = false;    // an unexpected exception: the worker answers, then exits
};

// `router` matches app.routes; `slot`, when given, learns the matched route at once, so that the
// master can say which route a worker was in if it dies or hangs.
Outcome dispatch(Request& req, Ctx& ctx, const App& app, const Router& router,
                 WorkerSlot* slot = nullptr);

}  // namespace fcgi
