// One request: read → dispatch → write → access log → metrics.
#include "fcgi/serve.h"

#include <unistd.h>

#include <chrono>

#include "core/config.h"
#include "core/log.h"
#include "fcgi/dispatch.h"

namespace fcgi {
namespace {

void access_line(const Request& req, const Response& res, double seconds) {
    core::LogContext lc{req.request_id, req.caller ? std::string_view(req.caller->id) : "",
                        req.route_name.empty() ? std::string_view("-") : req.route_name};
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.2f", seconds * 1000.0);
    // The path, never the query string: it could carry a token someone pasted there.
    core::log_line(core::LogLevel::info, lc,
                   "access " + req.method + " " + req.path + " " + std::to_string(res.status) +
                       " " + std::to_string(res.body.size()) + "B " + ms + "ms");
}

}  // namespace

ServeResult serve_one(Exchange& ex, Ctx& ctx, const App& app, const Router& router,
                      Scoreboard* board, int slot) {
    auto t0 = std::chrono::steady_clock::now();
    if (board) board->slots[slot].started_ms.store(monotonic_ms());
    Request req = read_request(ex);
    Outcome out;
    try {
        if (req.content_length < 0) throw core::ApiError::bad_request("malformed Content-Length");
        out = dispatch(req, ctx, app, router, board ? &board->slots[slot] : nullptr);
    } catch (const core::ApiError& e) {
        out.response = Response::problem(e, req.request_id);
    }
    write_response(ex, out.response, req.method == "HEAD");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    access_line(req, out.response, seconds);
    if (board) {
        board->record(out.route_index, out.response.status, seconds);
        board->slots[slot].served.fetch_add(1);
        board->slots[slot].started_ms.store(0);
        board->slots[slot].route.store(-1);
    }
    return {out.fatal};
}

}  // namespace fcgi
