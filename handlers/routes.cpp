// THE route table: reading it gives the whole API. A unit test checks it against openapi.json.
#include "handlers/routes.h"

#include "fcgi/scoreboard.h"

namespace handlers {

using namespace fcgi;

namespace {

// clang-format off
// resource: whose description gives the route's OpenAPI schemas; query: the parameters it takes
// (any other answers a problem before the handler runs), documented from the same description.
constexpr Route kRoutes[] = {
    // method  path                              handler          flags                  name               resource    query
    {"GET",    "/healthz",                       health_live,     kPublic,               "health_live"},
    {"GET",    "/readyz",                        health_ready,    kPublic,               "health_ready"},
    {"GET",    "/metrics",                       metrics_get,     kPublic,               "metrics_get"},
    {"GET",    "/api/v1/openapi.json",           openapi_get,     kPublic,               "openapi_get"},

    {"POST",   "/api/v1/auth/register",          auth_register,   kJsonBody,             "auth_register",   &kUsers},
    {"POST",   "/api/v1/auth/login",             auth_login,      kJsonBody,             "auth_login",      nullptr,    "set_cookie"},
    {"POST",   "/api/v1/auth/token",             auth_token,      kFormBody,             "auth_token",      nullptr,    "set_cookie"},
    {"POST",   "/api/v1/auth/refresh",           auth_refresh,    kOptionalJsonBody,     "auth_refresh",    nullptr,    "set_cookie"},
    {"POST",   "/api/v1/auth/logout",            auth_logout,     kOptionalJsonBody,     "auth_logout"},
    {"GET",    "/api/v1/auth/me",                auth_me_get,     kAuth,                 "auth_me_get",     &kUsers},
    {"PATCH",  "/api/v1/auth/me",                auth_me_update,  kAuth | kJsonBody,     "auth_me_update",  &kUsers},
    // nginx's auth_request before it reads an upload body (an internal location: see nginx/).
    {"GET",    "/_auth",                         auth_gate,       kAuth,                 "auth_gate"},

    {"GET",    "/api/v1/users",                  users_list,      kAdmin,                "users_list",      &kUsers,    "limit cursor"},
    {"POST",   "/api/v1/users",                  users_create,    kAdmin | kJsonBody,    "users_create",    &kUsers},
    {"GET",    "/api/v1/users/{id}",             users_get,       kAuth,                 "users_get",       &kUsers},
    {"PATCH",  "/api/v1/users/{id}",             users_update,    kAuth | kJsonBody,     "users_update",    &kUsers},
    {"DELETE", "/api/v1/users/{id}",             users_delete,    kAuth,                 "users_delete",    &kUsers},

    // An upload's fields may come as query parameters (a raw audio/* body).
    {"POST",   "/api/v1/sessions",               sessions_create, kAuth | kStreamBody,   "sessions_create", &kSessions, "title kind patient_id project_id language"},
    {"GET",    "/api/v1/sessions",               sessions_list,   kAuth,                 "sessions_list",   &kSessions, "limit cursor kind status patient_id project_id from to"},
    {"GET",    "/api/v1/sessions/{id}",          sessions_get,    kAuth,                 "sessions_get",    &kSessions},
    {"PATCH",  "/api/v1/sessions/{id}",          sessions_update, kAuth | kJsonBody,     "sessions_update", &kSessions},
    {"DELETE", "/api/v1/sessions/{id}",          sessions_delete, kAuth,                 "sessions_delete", &kSessions},
    {"GET",    "/api/v1/sessions/{id}/audio",    sessions_audio,  kAuth,                 "sessions_audio",  &kSessions},
    {"GET",    "/api/v1/sessions/{id}/transcript", sessions_transcript, kAuth,           "sessions_transcript", &kSessions, "format"},
    {"POST",   "/api/v1/sessions/{id}/reanalyze", sessions_reanalyze, kAuth,             "sessions_reanalyze", &kSessions},

    // Team tracker: projects and members (handlers/projects.cpp).

    // Team tracker: tasks, the board, moves, batches (handlers/tasks.cpp).

    // Team tracker: voice-to-tasks (handlers/task_memos.cpp).

    // Team tracker: activity log and reports (handlers/activity.cpp, handlers/reports.cpp).

    // Compatibility: OpenAI's transcription API at the site root (handlers/openai.cpp).

    // Practice: progress, goals, recommendations (handlers/progress.cpp, handlers/resources.cpp).
    {"GET",    "/api/v1/progress",               progress_get,    kAuth,                 "progress_get",    &kProgress, "bucket from to kind tz"},
    {"GET",    "/api/v1/me/goals",               goals_get,       kAuth,                 "goals_get",       &kGoals},
    {"PUT",    "/api/v1/me/goals",               goals_put,       kAuth | kJsonBody,     "goals_put",       &kGoals},
    {"GET",    "/api/v1/recommendations",        recommendations_get, kAuth,             "recommendations_get", &kLearningResources},
    {"GET",    "/api/v1/resources",              resources_list,  kAuth,                 "resources_list",  &kLearningResources, "limit cursor kind tag"},
    {"POST",   "/api/v1/resources",              resources_create, kAdmin | kJsonBody,   "resources_create", &kLearningResources},
    {"GET",    "/api/v1/resources/{id}",         resources_get,   kAuth,                 "resources_get",   &kLearningResources},
    {"PATCH",  "/api/v1/resources/{id}",         resources_update, kAdmin | kJsonBody,   "resources_update", &kLearningResources},
    {"DELETE", "/api/v1/resources/{id}",         resources_delete, kAdmin,               "resources_delete", &kLearningResources},

};
// clang-format on

static_assert(std::size(kRoutes) < fcgi::kMaxRoutes, "raise kMaxRoutes in fcgi/scoreboard.h");

}  // namespace

std::span<const Route> route_table() {
    return kRoutes;
}

}  // namespace handlers
