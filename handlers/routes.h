// The route table (handlers/routes.cpp) and every handler's declaration.
#pragma once

#include <span>

#include "fcgi/router.h"

namespace handlers {

using fcgi::Ctx;
using fcgi::Request;
using fcgi::Response;

std::span<const fcgi::Route> route_table();

// The resources (handlers/resource.h), each described in its handler file.
struct Resource;
extern const Resource kUsers;     // users.cpp
extern const Resource kSessions;  // sessions.cpp
// (tracker resources: one line each below)

extern const Resource kProgress;           // progress.cpp (the query of GET /progress)
extern const Resource kGoals;              // progress.cpp
extern const Resource kLearningResources;  // resources.cpp

// health.cpp
Response health_live(Request&, Ctx&);
Response health_ready(Request&, Ctx&);
Response metrics_get(Request&, Ctx&);
// openapi.cpp
Response openapi_get(Request&, Ctx&);
// auth.cpp
Response auth_register(Request&, Ctx&);
Response auth_login(Request&, Ctx&);
Response auth_token(Request&, Ctx&);
Response auth_refresh(Request&, Ctx&);
Response auth_logout(Request&, Ctx&);
Response auth_me_get(Request&, Ctx&);
Response auth_me_update(Request&, Ctx&);
Response auth_gate(Request&, Ctx&);
// users.cpp
Response users_list(Request&, Ctx&);
Response users_create(Request&, Ctx&);
Response users_get(Request&, Ctx&);
Response users_update(Request&, Ctx&);
Response users_delete(Request&, Ctx&);

// sessions.cpp
Response sessions_create(Request&, Ctx&);
Response sessions_list(Request&, Ctx&);
Response sessions_get(Request&, Ctx&);
Response sessions_update(Request&, Ctx&);
Response sessions_delete(Request&, Ctx&);
Response sessions_audio(Request&, Ctx&);
Response sessions_transcript(Request&, Ctx&);
Response sessions_reanalyze(Request&, Ctx&);

// projects.cpp

// tasks.cpp

// task_memos.cpp

// activity.cpp, reports.cpp

// openai.cpp

// progress.cpp
Response progress_get(Request&, Ctx&);
Response goals_get(Request&, Ctx&);
Response goals_put(Request&, Ctx&);
Response recommendations_get(Request&, Ctx&);
// resources.cpp
Response resources_list(Request&, Ctx&);
Response resources_create(Request&, Ctx&);
Response resources_get(Request&, Ctx&);
Response resources_update(Request&, Ctx&);
Response resources_delete(Request&, Ctx&);

}  // namespace handlers
