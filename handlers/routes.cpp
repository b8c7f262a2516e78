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
    {"POST",   "/api/v1/sessions",               sessions_create, kAuth | kStreamBody,   "sessions_create", &kSessions, "title kind patient_id project_id language consent"},
    {"GET",    "/api/v1/sessions",               sessions_list,   kAuth,                 "sessions_list",   &kSessions, "limit cursor kind status patient_id project_id from to"},
    {"GET",    "/api/v1/sessions/{id}",          sessions_get,    kAuth,                 "sessions_get",    &kSessions},
    {"PATCH",  "/api/v1/sessions/{id}",          sessions_update, kAuth | kJsonBody,     "sessions_update", &kSessions},
    {"DELETE", "/api/v1/sessions/{id}",          sessions_delete, kAuth,                 "sessions_delete", &kSessions},
    {"GET",    "/api/v1/sessions/{id}/audio",    sessions_audio,  kAuth,                 "sessions_audio",  &kSessions},
    {"GET",    "/api/v1/sessions/{id}/transcript", sessions_transcript, kAuth,           "sessions_transcript", &kSessions, "format"},
    {"POST",   "/api/v1/sessions/{id}/reanalyze", sessions_reanalyze, kAuth,             "sessions_reanalyze", &kSessions},

    // Team tracker: projects and members (handlers/projects.cpp).
    {"GET",    "/api/v1/projects",               projects_list,   kAuth,                 "projects_list",   &kProjects, "limit cursor status q"},
    {"POST",   "/api/v1/projects",               projects_create, kAuth | kJsonBody,     "projects_create", &kProjects},
    {"GET",    "/api/v1/projects/{id}",          projects_get,    kAuth,                 "projects_get",    &kProjects},
    {"PATCH",  "/api/v1/projects/{id}",          projects_update, kAuth | kJsonBody,     "projects_update", &kProjects},
    {"DELETE", "/api/v1/projects/{id}",          projects_delete, kAuth,                 "projects_delete", &kProjects},
    {"POST",   "/api/v1/projects/{id}/members",  project_members_add, kAuth | kJsonBody, "project_members_add", &kProjects},
    {"DELETE", "/api/v1/projects/{id}/members/{user_id}", project_members_remove, kAuth, "project_members_remove", &kProjects},

    // Team tracker: tasks, the board, moves, batches (handlers/tasks.cpp).
    {"GET",    "/api/v1/tasks",                  tasks_list,      kAuth,                 "tasks_list",      &kTasks,    "limit cursor project_id status assignee_id priority due_before q"},
    {"POST",   "/api/v1/tasks",                  tasks_create,    kAuth | kJsonBody,     "tasks_create",    &kTasks},
    {"PATCH",  "/api/v1/tasks",                  tasks_batch_update, kAuth | kJsonBody,  "tasks_batch_update", &kTasks},
    {"POST",   "/api/v1/tasks/batch-delete",     tasks_batch_delete, kAuth | kJsonBody,  "tasks_batch_delete", &kTasks},
    {"GET",    "/api/v1/tasks/{id}",             tasks_get,       kAuth,                 "tasks_get",       &kTasks},
    {"PUT",    "/api/v1/tasks/{id}",             tasks_replace,   kAuth | kJsonBody,     "tasks_replace",   &kTasks},
    {"PATCH",  "/api/v1/tasks/{id}",             tasks_update,    kAuth | kJsonBody,     "tasks_update",    &kTasks},
    {"DELETE", "/api/v1/tasks/{id}",             tasks_delete,    kAuth,                 "tasks_delete",    &kTasks},
    {"POST",   "/api/v1/tasks/{id}/move",        tasks_move,      kAuth | kJsonBody,     "tasks_move",      &kTasks},
    {"GET",    "/api/v1/projects/{id}/board",    projects_board,  kAuth,                 "projects_board",  &kTasks},

    // Team tracker: voice-to-tasks (handlers/task_memos.cpp). An upload, like POST /sessions:
    // its fields may come as query parameters (a raw audio/* body).
    {"POST",   "/api/v1/tasks/from-audio",       tasks_from_audio, kAuth | kStreamBody,  "tasks_from_audio", &kTasks,   "title project_id status priority"},

    // Team tracker: activity log and reports (handlers/activity.cpp, handlers/reports.cpp).
    {"GET",    "/api/v1/activity",               activity_list,   kAuth,                 "activity_list",   &kActivity, "limit cursor project_id entity entity_id actor_id from to"},
    {"GET",    "/api/v1/activity/verify",        activity_verify, kAdmin,                "activity_verify", &kActivityCheck},
    {"GET",    "/api/v1/projects/{id}/progress", reports_progress, kAuth,                "reports_progress", &kProjectProgress},
    {"GET",    "/api/v1/projects/{id}/flow",     reports_flow,    kAuth,                 "reports_flow",    &kFlow,     "from to bucket"},
    {"GET",    "/api/v1/reports/team-performance", reports_team_performance, kAuth,      "reports_team_performance", &kTeamPerformance, "project_id from to"},
    {"GET",    "/api/v1/reports/workload",       reports_workload, kAuth,                "reports_workload", &kWorkload, "project_id"},

    // Compatibility: OpenAI's transcription API at the site root (handlers/openai.cpp).
    {"POST",   "/v1/audio/transcriptions",       openai_transcriptions, kAuth | kStreamBody, "openai_transcriptions", nullptr, "", openai_error},

    // Scribe: patients and notes (handlers/patients.cpp, handlers/notes.cpp).
    {"GET",    "/api/v1/patients",               patients_list,   kAuth,                 "patients_list",   &kPatients, "limit cursor q"},
    {"POST",   "/api/v1/patients",               patients_create, kAuth | kJsonBody,     "patients_create", &kPatients},
    {"GET",    "/api/v1/patients/{id}",          patients_get,    kAuth,                 "patients_get",    &kPatients},
    {"PATCH",  "/api/v1/patients/{id}",          patients_update, kAuth | kJsonBody,     "patients_update", &kPatients},
    {"DELETE", "/api/v1/patients/{id}",          patients_delete, kAuth,                 "patients_delete", &kPatients},
    {"GET",    "/api/v1/patients/{id}/sessions", patients_sessions, kAuth,               "patients_sessions", &kSessions, "limit cursor"},
    {"GET",    "/api/v1/sessions/{id}/note",     notes_get,       kAuth,                 "notes_get",       &kNotes},
    {"PUT",    "/api/v1/sessions/{id}/note",     notes_update,    kAuth | kJsonBody,     "notes_update",    &kNotes},
    {"POST",   "/api/v1/sessions/{id}/note/approve", notes_approve, kAuth,               "notes_approve",   &kNotes},
    {"POST",   "/api/v1/sessions/{id}/note/reopen", notes_reopen, kAuth,                 "notes_reopen",    &kNotes},
    {"GET",    "/api/v1/sessions/{id}/note/history", notes_history, kAuth,               "notes_history",   &kNoteVersions, "limit cursor"},

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

    // Interviews: settings lists and the bank (handlers/interview_bank.cpp), generated
    // questions (handlers/question_generator.cpp).
    {"GET",    "/api/v1/industries",             industries_list, kAuth,                 "industries_list", &kIndustries, "limit cursor"},
    {"POST",   "/api/v1/industries",             industries_create, kAdmin | kJsonBody,  "industries_create", &kIndustries},
    {"GET",    "/api/v1/industries/{id}",        industries_get,  kAuth,                 "industries_get",  &kIndustries},
    {"PATCH",  "/api/v1/industries/{id}",        industries_update, kAdmin | kJsonBody,  "industries_update", &kIndustries},
    {"DELETE", "/api/v1/industries/{id}",        industries_delete, kAdmin,              "industries_delete", &kIndustries},
    {"GET",    "/api/v1/roles",                  roles_list,      kAuth,                 "roles_list",      &kBankRoles, "limit cursor industry"},
    {"POST",   "/api/v1/roles",                  roles_create,    kAdmin | kJsonBody,    "roles_create",    &kBankRoles},
    {"GET",    "/api/v1/roles/{id}",             roles_get,       kAuth,                 "roles_get",       &kBankRoles},
    {"PATCH",  "/api/v1/roles/{id}",             roles_update,    kAdmin | kJsonBody,    "roles_update",    &kBankRoles},
    {"DELETE", "/api/v1/roles/{id}",             roles_delete,    kAdmin,                "roles_delete",    &kBankRoles},
    {"GET",    "/api/v1/questions",              questions_list,  kAuth,                 "questions_list",  &kQuestions, "limit cursor industry role difficulty competency"},
    {"POST",   "/api/v1/questions",              questions_create, kAdmin | kJsonBody,   "questions_create", &kQuestions},
    {"POST",   "/api/v1/questions/generate",     questions_generate, kAuth | kJsonBody,  "questions_generate", &kGeneratedQuestions},
    {"GET",    "/api/v1/questions/{id}",         questions_get,   kAuth,                 "questions_get",   &kQuestions},
    {"PATCH",  "/api/v1/questions/{id}",         questions_update, kAdmin | kJsonBody,   "questions_update", &kQuestions},
    {"DELETE", "/api/v1/questions/{id}",         questions_delete, kAdmin,               "questions_delete", &kQuestions},

    // Interviews: interviews, answers, scorecards, dashboard, preferences (handlers/interviews.cpp).
    // An answer is JSON {question_id, text} or an upload (multipart, or raw audio with ?question_id=).
    {"GET",    "/api/v1/me/preferences",         interview_preferences_get, kAuth,       "interview_preferences_get", &kInterviewPreferences},
    {"PUT",    "/api/v1/me/preferences",         interview_preferences_put, kAuth | kJsonBody, "interview_preferences_put", &kInterviewPreferences},
    {"POST",   "/api/v1/interviews",             interviews_create, kAuth | kJsonBody,   "interviews_create", &kInterviews},
    {"GET",    "/api/v1/interviews",             interviews_list, kAuth,                 "interviews_list", &kInterviews, "limit cursor status industry role"},
    {"GET",    "/api/v1/interviews/{id}",        interviews_get,  kAuth,                 "interviews_get",  &kInterviews},
    {"POST",   "/api/v1/interviews/{id}/answers", interviews_answer, kAuth | kStreamBody, "interviews_answer", &kInterviews, "question_id"},
    {"POST",   "/api/v1/interviews/{id}/finish", interviews_finish, kAuth,               "interviews_finish", &kInterviews},
    {"GET",    "/api/v1/interviews/{id}/scorecard", interviews_scorecard, kAuth,         "interviews_scorecard", &kInterviews},
    {"GET",    "/api/v1/dashboard/progress",     dashboard_progress, kAuth,              "dashboard_progress", &kInterviewDashboard, "bucket from to"},

    // Events without WebSockets: long poll and Server-Sent Events (handlers/events.cpp).
    {"GET",    "/api/v1/events",                 events_list,     kAuth,                 "events_list",     &kEvents, "since limit wait_s"},

};
// clang-format on

static_assert(std::size(kRoutes) < fcgi::kMaxRoutes, "raise kMaxRoutes in fcgi/scoreboard.h");

}  // namespace

std::span<const Route> route_table() {
    return kRoutes;
}

}  // namespace handlers
