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
extern const Resource kTasks;              // tasks.cpp
extern const Resource kActivity;           // activity.cpp
extern const Resource kActivityCheck;      // activity.cpp
extern const Resource kProjectProgress;    // reports.cpp
extern const Resource kFlow;               // reports.cpp
extern const Resource kTeamPerformance;    // reports.cpp
extern const Resource kWorkload;           // reports.cpp
extern const Resource kProjects;           // projects.cpp
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
Response projects_list(Request&, Ctx&);
Response projects_create(Request&, Ctx&);
Response projects_get(Request&, Ctx&);
Response projects_update(Request&, Ctx&);
Response projects_delete(Request&, Ctx&);
Response project_members_add(Request&, Ctx&);
Response project_members_remove(Request&, Ctx&);

// tasks.cpp
Response tasks_list(Request&, Ctx&);
Response tasks_create(Request&, Ctx&);
Response tasks_get(Request&, Ctx&);
Response tasks_replace(Request&, Ctx&);
Response tasks_update(Request&, Ctx&);
Response tasks_delete(Request&, Ctx&);
Response tasks_move(Request&, Ctx&);
Response tasks_batch_update(Request&, Ctx&);
Response tasks_batch_delete(Request&, Ctx&);
Response projects_board(Request&, Ctx&);

// task_memos.cpp
Response tasks_from_audio(Request&, Ctx&);

// activity.cpp, reports.cpp
Response activity_list(Request&, Ctx&);
Response activity_verify(Request&, Ctx&);
Response reports_progress(Request&, Ctx&);
Response reports_flow(Request&, Ctx&);
Response reports_team_performance(Request&, Ctx&);
Response reports_workload(Request&, Ctx&);

// openai.cpp
Response openai_transcriptions(Request&, Ctx&);
// Its refusals in OpenAI's error shape (the route's render_error).
Response openai_error(const core::ApiError&, const Request&);

// Scribe: patients and notes.
extern const Resource kPatients;      // patients.cpp
extern const Resource kNotes;         // notes.cpp
extern const Resource kNoteVersions;  // notes.cpp
// patients.cpp
Response patients_list(Request&, Ctx&);
Response patients_create(Request&, Ctx&);
Response patients_get(Request&, Ctx&);
Response patients_update(Request&, Ctx&);
Response patients_delete(Request&, Ctx&);
Response patients_sessions(Request&, Ctx&);
// notes.cpp
Response notes_get(Request&, Ctx&);
Response notes_update(Request&, Ctx&);
Response notes_approve(Request&, Ctx&);
Response notes_reopen(Request&, Ctx&);
Response notes_history(Request&, Ctx&);
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
// Interviews: the bank (interview_bank.cpp, question_generator.cpp).
extern const Resource kIndustries;  // interview_bank.cpp
extern const Resource kBankRoles;   // interview_bank.cpp
extern const Resource kQuestions;   // interview_bank.cpp
// interview_bank.cpp
Response industries_list(Request&, Ctx&);
Response industries_get(Request&, Ctx&);
Response industries_create(Request&, Ctx&);
Response industries_update(Request&, Ctx&);
Response industries_delete(Request&, Ctx&);
Response roles_list(Request&, Ctx&);
Response roles_get(Request&, Ctx&);
Response roles_create(Request&, Ctx&);
Response roles_update(Request&, Ctx&);
Response roles_delete(Request&, Ctx&);
Response questions_list(Request&, Ctx&);
Response questions_get(Request&, Ctx&);
Response questions_create(Request&, Ctx&);
Response questions_update(Request&, Ctx&);
Response questions_delete(Request&, Ctx&);
// question_generator.cpp: POST /questions/generate (the request body and the generated items).
extern const Resource kGeneratedQuestions;
Response questions_generate(Request&, Ctx&);

// Interviews: interviews.cpp.
extern const Resource kInterviews;
extern const Resource kInterviewPreferences;
extern const Resource kInterviewDashboard;
Response interview_preferences_get(Request&, Ctx&);
Response interview_preferences_put(Request&, Ctx&);
Response interviews_create(Request&, Ctx&);
Response interviews_list(Request&, Ctx&);
Response interviews_get(Request&, Ctx&);
Response interviews_answer(Request&, Ctx&);
Response interviews_finish(Request&, Ctx&);
Response interviews_scorecard(Request&, Ctx&);
Response dashboard_progress(Request&, Ctx&);

// Events without WebSockets: events.cpp.
extern const Resource kEvents;
Response events_list(Request&, Ctx&);

}  // namespace handlers
