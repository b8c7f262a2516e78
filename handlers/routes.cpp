// THE route table: reading it gives the whole API. A unit test checks it against openapi.json.
#include "handlers/routes.h"

#include "fcgi/scoreboard.h"

namespace handlers {

using namespace fcgi;

namespace {

// clang-format off
constexpr Route kRoutes[] = {
    // method  path                              handler          flags                  name
    {"GET",    "/healthz",                       health_live,     kPublic,               "health_live"},
    {"GET",    "/readyz",                        health_ready,    kPublic,               "health_ready"},
    {"GET",    "/metrics",                       metrics_get,     kPublic,               "metrics_get"},
    {"GET",    "/api/v1/openapi.json",           openapi_get,     kPublic,               "openapi_get"},

    {"POST",   "/api/v1/auth/register",          auth_register,   kJsonBody,             "auth_register"},
    {"POST",   "/api/v1/auth/login",             auth_login,      kJsonBody,             "auth_login"},
    {"POST",   "/api/v1/auth/token",             auth_token,      kFormBody,             "auth_token"},
    {"POST",   "/api/v1/auth/refresh",           auth_refresh,    kOptionalJsonBody,     "auth_refresh"},
    {"POST",   "/api/v1/auth/logout",            auth_logout,     kOptionalJsonBody,     "auth_logout"},
    {"GET",    "/api/v1/auth/me",                auth_me_get,     kAuth,                 "auth_me_get"},
    {"PATCH",  "/api/v1/auth/me",                auth_me_update,  kAuth | kJsonBody,     "auth_me_update"},
    // nginx's auth_request before it reads an upload body (an internal location: see nginx/).
    {"GET",    "/_auth",                         auth_gate,       kAuth,                 "auth_gate"},

    {"GET",    "/api/v1/users",                  users_list,      kAdmin,                "users_list"},
    {"POST",   "/api/v1/users",                  users_create,    kAdmin | kJsonBody,    "users_create"},
    {"GET",    "/api/v1/users/{id}",             users_get,       kAuth,                 "users_get"},
    {"PATCH",  "/api/v1/users/{id}",             users_update,    kAuth | kJsonBody,     "users_update"},
    {"DELETE", "/api/v1/users/{id}",             users_delete,    kAuth,                 "users_delete"},

    {"POST",   "/api/v1/sessions",               sessions_create, kAuth | kStreamBody,   "sessions_create"},
    {"GET",    "/api/v1/sessions",               sessions_list,   kAuth,                 "sessions_list"},
    {"GET",    "/api/v1/sessions/{id}",          sessions_get,    kAuth,                 "sessions_get"},
    {"PATCH",  "/api/v1/sessions/{id}",          sessions_update, kAuth | kJsonBody,     "sessions_update"},
    {"DELETE", "/api/v1/sessions/{id}",          sessions_delete, kAuth,                 "sessions_delete"},
    {"GET",    "/api/v1/sessions/{id}/audio",    sessions_audio,  kAuth,                 "sessions_audio"},
    {"GET",    "/api/v1/sessions/{id}/transcript", sessions_transcript, kAuth,           "sessions_transcript"},
    {"POST",   "/api/v1/sessions/{id}/reanalyze", sessions_reanalyze, kAuth,             "sessions_reanalyze"},
};
// clang-format on

static_assert(std::size(kRoutes) < fcgi::kMaxRoutes, "raise kMaxRoutes in fcgi/scoreboard.h");

}  // namespace

std::span<const Route> route_table() {
    return kRoutes;
}

}  // namespace handlers
