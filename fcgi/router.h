// The router: matches (method, path) against the route table, fills path parameters, and
// answers 404/405 itself.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "fcgi/request.h"
#include "fcgi/response.h"

namespace core {
class ApiError;
struct Config;
struct TokenSettings;
}  // namespace core
namespace db {
class Db;
}
namespace handlers {
struct Resource;  // the application's description (handlers/resource.h); opaque here
}

namespace fcgi {

struct Scoreboard;

// What a handler may use besides the request: the process's connection and the read-only
// configuration. Handlers never read globals or the environment.
struct Ctx {
    db::Db& db;
    const core::Config& cfg;
    const core::TokenSettings& tokens;
    const Scoreboard* board;  // null in CGI mode
};

using Handler = Response (*)(Request&, Ctx&);
// How a route answers its refusals when its clients expect another shape than problem+json
// (OpenAI's {"error": {...}} on /v1/audio/transcriptions): every ApiError of the request once
// it is routed (authentication, body checks, unknown parameters, the handler's own).
using ErrorRenderer = Response (*)(const core::ApiError&, const Request&);

enum RouteFlags : unsigned {
    kPublic = 0,
    kAuth = 1,               // a valid access token (bearer or cookie) → req.caller
    kAdmin = 2 | kAuth,      // ... whose user is an admin, else 403
    kJsonBody = 4,           // Content-Type application/json and a body, else 415/400
    kFormBody = 8,           // application/x-www-form-urlencoded, else 415
    kOptionalJsonBody = 16,  // may be empty (e.g. refresh with a cookie); JSON if present
    kStreamBody = 32,        // the handler reads the body itself (uploads), in chunks
};

struct Route {
    const char* method;
    const char* pattern;  // "/api/v1/users/{id}"; a parameter named {id} or {*_id} is a UUID
    Handler handler;
    unsigned flags;
    const char* name;  // the route's name in logs and metrics: "users_get"
    // The resource the route serves (its schemas in the OpenAPI document), or null.
    const handlers::Resource* resource = nullptr;
    // The query parameters it takes, space-separated ("limit cursor kind"); any other is
    // refused before the handler runs. The OpenAPI document lists them from the resource.
    const char* query = "";
    // Renders the route's errors; null: problem+json, as every route of the API.
    ErrorRenderer render_error = nullptr;
};

// Refuses a query parameter the route does not name (a typo, or ?sort=...;DROP, never passes
// silently): 422 problem+json, errors[].field = the parameter. (A parameter the route takes
// but whose value is unreadable stays 400, like a body that does not parse.)
void refuse_unknown_params(const Request& req, const Route& route);

class Router {
  public:
    explicit Router(std::span<const Route> routes) : routes_(routes) {}
    // The matching route, with req.path_params filled. Throws ApiError 404 (no such path, or a
    // UUID parameter that is not a UUID) or 405 (path known, method not; Allow lists them).
    // HEAD matches GET routes.
    const Route& match(Request& req) const;
    int index_of(const Route& r) const { return static_cast<int>(&r - routes_.data()); }
    std::span<const Route> routes() const { return routes_; }

  private:
    std::span<const Route> routes_;
};

}  // namespace fcgi
