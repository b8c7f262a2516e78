// Dispatch and the single catch site.
#include "fcgi/dispatch.h"

#include "core/config.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/query.h"
#include "fcgi/exchange.h"
#include "fcgi/site.h"

namespace fcgi {
namespace {

void check_body_kind(const Request& req, unsigned flags) {
    std::string media = req.media_type();
    if (flags & kFormBody) {
        if (media != "application/x-www-form-urlencoded")
            throw core::ApiError::unsupported_media(
                "this route takes application/x-www-form-urlencoded");
        return;
    }
    bool optional = flags & kOptionalJsonBody;
    if (!(flags & (kJsonBody | kOptionalJsonBody))) return;
    if (optional && req.body.empty()) return;
    if (media != "application/json")
        throw core::ApiError::unsupported_media("this route takes application/json");
    if (req.body.empty())
        throw core::ApiError::bad_request("empty body; a JSON object is required");
}

Response run(Request& req, Ctx& ctx, const App& app, const Route& route) {
    // Uploads stream their body to disk in the handler; everything else is small and read now.
    if (!(route.flags & kStreamBody))
        read_body(req, static_cast<size_t>(ctx.cfg.api_max_body_bytes));
    req.query = core::parse_query(req.query_string);
    if (route.flags & kAuth) app.authenticate(req, ctx);
    if ((route.flags & kAdmin) == kAdmin && !req.user().is_admin())
        throw core::ApiError::forbidden("admin role required");
    check_body_kind(req, route.flags);
    refuse_unknown_params(req, route);
    return route.handler(req, ctx);
}

// A routed request's error in its route's shape (problem+json unless the route says otherwise).
Response error_response(const core::ApiError& e, const Request& req, const Route* route) {
    if (route && route->render_error) return route->render_error(e, req);
    return Response::problem(e, req.request_id);
}

}  // namespace

Outcome dispatch(Request& req, Ctx& ctx, const App& app, const Router& router, WorkerSlot* slot) {
    Outcome out;
    const Route* routed = nullptr;
    try {
        // Before routing: a Host we do not serve gets nothing else, whichever front (nginx,
        // a CGI server, a direct FastCGI client) passed the request on.
        require_allowed_host(req, ctx.cfg.site_hosts);
        const Route& route = router.match(req);
        routed = &route;
        out.route_index = router.index_of(route);
        if (slot) slot->route.store(out.route_index);
        out.response = run(req, ctx, app, route);
    } catch (const core::ApiError& e) {
        out.response = error_response(e, req, routed);
    } catch (const std::exception& e) {
        if (auto mapped = app.map_error(e, req)) {
            out.response = error_response(*mapped, req, routed);
            return out;
        }
        // A bug: answer 500 with the request id, log once, and let the worker exit so that
        // whatever state the bug left behind dies with it (the master starts a fresh one).
        core::LogContext lc{req.request_id, {}, req.route_name};
        core::log_line(core::LogLevel::error, lc, std::string("internal error: ") + e.what());
        core::ApiError err(500, core::status_text(500), "internal error; quote the request id");
        out.response = error_response(err, req, routed);
        out.fatal = true;
    }
    return out;
}

}  // namespace fcgi
