// The clinical note of a scribe session: read, edit (a draft), approve, reopen, history. The
// note is drafted by the worker when the session is done (worker/scribe_notes.cpp); every
// change is kept as a version (clinical_note_versions, by trigger) and announced to the owner
// (note.updated). Decisions where API.md is silent:
//   - GET on a scribe session of the caller's without a note yet answers 409 (naming the
//     session's status), so a client can tell "wait" from "no such note" (404: not the
//     caller's session, or not a scribe session).
//   - PUT replaces the whole text: summary and all four sections are required (each at most
//     20,000 characters); 409 once approved.
//   - approve on an approved note and reopen on a draft answer 409: nothing changes.
#include <string>

#include "core/json.h"
#include "core/problem.h"
#include "db/clinical_notes.h"
#include "db/events.h"
#include "db/sessions.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

constexpr int64_t kMaxNoteChars = 20000;
constexpr const char* kNoteStatuses[] = {"draft", "approved"};
constexpr const char* kNoteActions[] = {"drafted", "edited", "approved", "reopened"};

// clang-format off
using Rec = db::Note;
constexpr Field kNoteFields[] = {
    {.name = "session_id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(session_id)},
    {.name = "status", .type = Type::enumeration, .use = kOut, .get = FIELD_GET(status),
     .values = kNoteStatuses},
    {.name = "version", .type = Type::integer, .use = kOut, .get = FIELD_GET(version),
     .description = "1 for the first draft, +1 at each reopen"},
    {.name = "summary", .type = Type::text, .use = kOut | kPatch, .get = FIELD_GET(text.summary),
     .max = kMaxNoteChars, .required = kPatch},
    {.name = "sections", .type = Type::object, .use = kOut | kPatch, .get = FIELD_GET(sections_json),
     .required = kPatch, .ref = "NoteSections"},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
    {.name = "approved_at", .type = Type::timestamp, .use = kOut | kNullable,
     .get = FIELD_GET(approved_at)},
};
constexpr Body kNoteBodies[] = {{kPatch, "NoteUpdate"}};
// clang-format on

}  // namespace

constexpr Resource kNotes{.schema = "Note", .fields = kNoteFields, .bodies = kNoteBodies};

namespace {

// clang-format off
#undef FIELD_GET
#define FIELD_GET(m) \
    [](const void* p) -> ::handlers::Value { return static_cast<const db::NoteVersion*>(p)->m; }
constexpr Field kNoteVersionFields[] = {
    {.name = "version", .type = Type::integer, .use = kOut, .get = FIELD_GET(version)},
    {.name = "at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(at)},
    {.name = "actor_id", .type = Type::uuid, .use = kOut | kNullable, .get = FIELD_GET(actor_id),
     .description = "who made the change; null: the worker's draft"},
    {.name = "action", .type = Type::enumeration, .use = kOut, .get = FIELD_GET(action),
     .values = kNoteActions},
    {.name = "status", .type = Type::enumeration, .use = kOut, .get = FIELD_GET(status),
     .values = kNoteStatuses},
    {.name = "summary", .type = Type::text, .use = kOut, .get = FIELD_GET(text.summary)},
    {.name = "sections", .type = Type::object, .use = kOut, .get = FIELD_GET(sections_json),
     .ref = "NoteSections"},
};
#undef FIELD_GET
#define FIELD_GET(m) \
    [](const void* p) -> ::handlers::Value { return static_cast<const Rec*>(p)->m; }
// clang-format on

}  // namespace

constexpr Resource kNoteVersions{.schema = "NoteVersion",
                                 .fields = kNoteVersionFields,
                                 .cursor_key = [](const void* p) -> Value {
                                     return static_cast<const db::NoteVersion*>(p)->cursor_key;
                                 },
                                 .cursor_id = [](const void* p) -> Value {
                                     return static_cast<const db::NoteVersion*>(p)->session_id;
                                 }};

namespace {

std::string session_id_of(const Request& req) {
    return std::string(req.path_param("id"));
}

// No note: 404 unless the session is the caller's scribe session, which is not drafted yet.
[[noreturn]] void no_note(Ctx& ctx, const Request& req) {
    auto s = db::find_session(ctx.db, req.user().id, session_id_of(req));
    if (!s || s->kind != "scribe") throw core::ApiError::not_found("no such scribe session");
    throw core::ApiError::conflict(
        "", "the note is drafted when the session is done (status " + s->status + ")");
}

Response note_response(const db::Note& n) {
    return Response::json(200, to_json(kNotes, n));
}

db::NoteText read_note_text(const Request& req) {
    core::JsonPtr body = json_body(req);
    core::ObjectReader r(body.get());
    db::NoteText t;
    t.summary = r.required_string("summary", 0, kMaxNoteChars);
    if (!r.has("sections")) throw core::ApiError::unprocessable("sections", "is required");
    const cJSON* sections = cJSON_GetObjectItemCaseSensitive(body.get(), "sections");
    if (!cJSON_IsObject(sections))
        throw core::ApiError::unprocessable("sections", "must be an object");
    r.finish();
    core::ObjectReader s(sections);
    t.subjective = s.required_string("subjective", 0, kMaxNoteChars);
    t.objective = s.required_string("objective", 0, kMaxNoteChars);
    t.assessment = s.required_string("assessment", 0, kMaxNoteChars);
    t.plan = s.required_string("plan", 0, kMaxNoteChars);
    s.finish();
    return t;
}

// A change and its event in one transaction: 404 / 409 when the note was not in the state
// the change needs (nothing written).
template <class F>
Response change_note(Request& req, Ctx& ctx, const char* action, const char* wrong_state, F&& f) {
    db::Tx tx(ctx.db);
    db::NoteResult r = f();
    if (r.outcome == db::NoteChange::no_note) no_note(ctx, req);
    if (r.outcome == db::NoteChange::wrong_state) throw core::ApiError::conflict("", wrong_state);
    db::publish(ctx.db, db::Audience::user(req.user().id),
                db::note_updated(r.note->session_id, r.note->status, r.note->version, action));
    tx.commit();
    return note_response(*r.note);
}

}  // namespace

Response notes_get(Request& req, Ctx& ctx) {
    auto n = db::find_note(ctx.db, req.user().id, session_id_of(req));
    if (!n) no_note(ctx, req);
    return note_response(*n);
}

Response notes_update(Request& req, Ctx& ctx) {
    // Whose note first: another user's session answers 404 whatever the body holds.
    if (!db::find_note(ctx.db, req.user().id, session_id_of(req))) no_note(ctx, req);
    db::NoteText t = read_note_text(req);
    return change_note(req, ctx, "edited", "the note is approved; reopen it to edit a new draft",
                       [&] { return db::edit_note(ctx.db, req.user().id, session_id_of(req), t); });
}

Response notes_approve(Request& req, Ctx& ctx) {
    return change_note(req, ctx, "approved", "the note is approved already",
                       [&] { return db::approve_note(ctx.db, req.user().id, session_id_of(req)); });
}

Response notes_reopen(Request& req, Ctx& ctx) {
    return change_note(req, ctx, "reopened", "the note is a draft already",
                       [&] { return db::reopen_note(ctx.db, req.user().id, session_id_of(req)); });
}

Response notes_history(Request& req, Ctx& ctx) {
    Page p = read_page(req);
    const std::string id = session_id_of(req);
    if (p.id && *p.id != id)
        throw core::ApiError::bad_request("not a cursor of this note", "cursor");
    std::vector<db::NoteVersion> rows =
        db::note_history(ctx.db, req.user().id, id, p.key, p.limit + 1);
    if (rows.empty() && !p.key && !db::find_note(ctx.db, req.user().id, id)) no_note(ctx, req);
    return list_response(kNoteVersions, rows, p.limit);
}

}  // namespace handlers
