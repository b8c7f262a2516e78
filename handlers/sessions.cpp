// Sessions (recordings): upload, list, read, change, delete, audio download, transcript in
// four formats, re-analysis. Every query carries the caller's id: another user's session
// answers 404 on every route, audio included.
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/numbers.h"
#include "core/problem.h"
#include "core/temp_file.h"
#include "db/jobs.h"
#include "db/projects.h"
#include "db/session_jobs.h"
#include "db/session_rules.h"
#include "db/sessions.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/scribe.h"
#include "handlers/sessions.h"
#include "handlers/transcript_formats.h"
#include "handlers/uploads.h"
#include "speech/languages.h"

namespace handlers {
namespace {

constexpr const auto& kKinds = db::kSessionKinds;
constexpr const auto& kStatuses = db::kSessionStatuses;

using Rec = db::Session;
// clang-format off
constexpr Field kSessionFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "kind", .type = Type::enumeration, .use = kOut | kCreate | kFilter, .get = FIELD_GET(kind),
     .values = kKinds, .def = db::kDefaultSessionKind},
    {.name = "title", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(title),
     .max = db::kSessionTitleMaxChars, .def = ""},
    {.name = "status", .type = Type::enumeration, .use = kOut | kFilter, .get = FIELD_GET(status),
     .values = kStatuses},
    {.name = "progress", .type = Type::number, .use = kOut, .get = FIELD_GET(progress), .min = 0, .max = 1},
    {.name = "error", .type = Type::string, .use = kOut | kNullable, .get = FIELD_GET(error)},
    {.name = "duration_s", .type = Type::number, .use = kOut | kNullable, .get = FIELD_GET(duration_s)},
    {.name = "audio_format", .type = Type::string, .use = kOut, .get = FIELD_GET(audio_format)},
    {.name = "language", .type = Type::string, .use = kOut | kCreate, .get = FIELD_GET(language),
     .description = "an installed model; others answer 422 listing what is installed", .def = speech::kDefaultLanguage},
    {.name = "patient_id", .type = Type::uuid, .use = kOut | kCreate | kPatch | kFilter | kNullable,
     .get = FIELD_GET(patient_id)},
    {.name = "project_id", .type = Type::uuid, .use = kOut | kCreate | kFilter | kNullable,
     .get = FIELD_GET(project_id)},
    {.name = "summary", .type = Type::text, .use = kOut | kPatch | kNullable, .get = FIELD_GET(summary),
     .max = 20000},
    {.name = "notes", .type = Type::text, .use = kOut | kPatch | kNullable, .get = FIELD_GET(notes),
     .max = 20000},
    {.name = "consent", .type = Type::boolean, .use = kOut | kCreate, .get = FIELD_GET(consent),
     .description = "the recorded person agreed (scribe.require_consent makes it required for scribe sessions)"},
    {.name = "audio_deleted_at", .type = Type::timestamp, .use = kOut | kNullable,
     .get = FIELD_GET(audio_deleted_at), .description = "when scribe.retention_days removed the audio"},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
    // Written by sessions_get when they exist.
    {.name = "transcript", .type = Type::object, .use = kOut, .ref = "Transcript"},
    {.name = "analysis", .type = Type::object, .use = kOut, .ref = "Analysis"},
    // Filters on created_at.
    {.name = "from", .type = Type::timestamp, .use = kFilter, .description = "created at or after"},
    {.name = "to", .type = Type::timestamp, .use = kFilter, .description = "created before"},
};
constexpr Body kSessionBodies[] = {{kCreate, "SessionUpload", "file"}, {kPatch, "SessionUpdate"}};
// clang-format on

// A transcript's words: its own small shape, written here.
void write_transcript(core::JsonWriter& w, const db::Session& s,
                      const std::vector<db::StoredWord>& words) {
    w.begin_object().field("text", s.transcript_text.value_or("")).key("words").begin_array();
    for (const auto& word : words) {
        w.begin_object()
            .field("word", word.word)
            .key("start_s")
            .raw(core::fixed3(word.start_s))
            .key("end_s")
            .raw(core::fixed3(word.end_s))
            .key("confidence")
            .raw(core::fixed3(word.confidence))
            .field("filler", word.filler)
            .end_object();
    }
    w.end_array().field("engine", s.engine.value_or("")).end_object();
}

}  // namespace

constexpr Resource kSessions{.schema = "Session",
                             .fields = kSessionFields,
                             .bodies = kSessionBodies,
                             .cursor_key = FIELD_GET(cursor_key),
                             .cursor_id = FIELD_GET(id)};

namespace {

std::string session_json(const db::Session& s) {
    return to_json(kSessions, s);
}

db::Session session_or_404(Request& req, Ctx& ctx) {
    auto s = db::find_session(ctx.db, req.user().id, std::string(req.path_param("id")));
    if (!s) throw core::ApiError::not_found("no such session");
    return *s;
}

// The fields of an upload, validated: kind, title, language, patient_id, project_id.
db::NewSession new_session_from(const std::map<std::string, std::string>& form, Ctx& ctx) {
    Input in = read_form(kSessions, form, kCreate);
    db::NewSession s;
    s.kind = *in.str("kind");
    s.title = *in.str("title");
    s.language = *in.str("language");
    speech::require_installed(ctx.cfg.model_root, s.language);
    s.patient_id = in.str("patient_id");
    s.project_id = in.str("project_id");
    s.consent = consent_or_422(ctx, in.str("consent"), s.kind);
    return s;
}

// A session's project_id must name a project its owner can see (project_role not NULL); a
// project deleted before the insert is the foreign key's (db/sqlstate.cpp: the same 422).
void project_or_422(Ctx& ctx, const db::NewSession& s) {
    if (s.project_id && !db::project_visible(ctx.db, *s.project_id, s.user_id))
        throw core::ApiError::unprocessable("project_id", db::kProjectNotVisible);
}

}  // namespace

db::Session store_upload(Request& req, Ctx& ctx, ReceivedAudio& up,
                         const std::map<std::string, std::string>& form) {
    db::NewSession ns = new_session_from(form, ctx);
    require_own_patient(ctx, req.user().id, ns.patient_id);  // before the file is stored
    ns.id = core::new_uuid();
    ns.user_id = req.user().id;
    project_or_422(ctx, ns);
    ns.audio_format = up.info.format;
    ns.audio_mime = up.info.mime;
    ns.audio_bytes = up.file->size();
    if (up.info.duration_s >= 0) ns.duration_s = up.info.duration_s;
    ns.audio_path = ns.id + "." + up.info.format;
    std::string final_path = audio_dir(ctx) + "/" + ns.audio_path;
    try {
        up.file->commit_to(final_path);
    } catch (const core::DiskFullError&) {
        throw core::ApiError::insufficient_storage();
    }
    core::FileGuard guard(final_path);  // removed again unless the rows commit
    db::Session s = create_or_throw(ctx, [&](db::JobQuota quota) {
        return db::create_session(ctx.db, ns, db::SessionStart::transcribe, quota);
    });
    guard.release();
    return s;
}

Response sessions_create(Request& req, Ctx& ctx) {
    job_quota_or_throw(ctx, req.user().id);  // before the body is read
    ReceivedAudio up = receive_audio(req, ctx, body_fields(kSessions, kCreate));
    db::Session s = store_upload(req, ctx, up, up.fields);
    return Response::json(202, session_json(s)).header("Location", "/api/v1/sessions/" + s.id);
}

Response sessions_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kSessions, req);
    Page p = read_page(req);
    db::SessionFilter f{q.str("kind"),
                        q.str("status"),
                        q.str("patient_id"),
                        q.str("project_id"),
                        q.str("from"),
                        q.str("to"),
                        p.key,
                        p.id};
    std::vector<db::Session> rows = db::list_sessions(ctx.db, req.user().id, f, p.limit + 1);
    return list_response(kSessions, rows, p.limit);
}

Response sessions_get(Request& req, Ctx& ctx) {
    db::Session s = session_or_404(req, ctx);
    core::JsonWriter w;
    w.begin_object();
    write_fields(w, kSessions, &s);
    if (s.transcript_text) {
        w.key("transcript");
        write_transcript(w, s, db::session_words(ctx.db, s.id));
    }
    if (auto a = db::session_analysis_json(ctx.db, s.id)) w.key("analysis").raw(*a);
    w.end_object();
    return Response::json(200, w.take());
}

Response sessions_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kSessions, body.get(), kPatch);
    db::SessionChanges c{in.str("title"),      in.str("summary"),        in.str("notes"),
                         in.str("patient_id"), in.is_null("patient_id"), in.is_null("summary"),
                         in.is_null("notes")};
    require_own_patient(ctx, req.user().id, c.patient_id);
    auto s = db::update_session(ctx.db, req.user().id, std::string(req.path_param("id")), c);
    if (!s) throw core::ApiError::not_found("no such session");
    return Response::json(200, session_json(*s));
}

Response sessions_delete(Request& req, Ctx& ctx) {
    auto path = db::delete_session(ctx.db, req.user().id, std::string(req.path_param("id")));
    if (!path) throw core::ApiError::not_found("no such session");
    remove_audio_files(ctx, {*path});
    return Response::no_content();
}

// A scribe session's audio removed by scribe.retention_days: 410, the session itself stays.
static core::ApiError audio_gone(const db::Session& s) {
    return core::ApiError(410, "Gone",
                          "the audio was deleted by the retention policy at " +
                              *s.audio_deleted_at + "; the transcript and note remain",
                          {}, "/problems/audio-deleted");
}

// nginx serves the file (Range, sendfile) after this ownership check: X-Accel-Redirect to an
// internal location whose types map the stored format to its audio/* type.
Response sessions_audio(Request& req, Ctx& ctx) {
    db::Session s = session_or_404(req, ctx);
    if (s.audio_deleted_at) throw audio_gone(s);
    Response res = Response::no_content();
    res.status = 200;
    res.header("X-Accel-Redirect", "/_audio/" + s.audio_path);
    return res;
}

Response sessions_transcript(Request& req, Ctx& ctx) {
    std::string format(req.query.get("format").value_or("json"));
    if (format != "json" && format != "txt" && format != "srt" && format != "vtt")
        throw core::ApiError::bad_request("format must be json, txt, srt or vtt", "format");
    db::Session s = session_or_404(req, ctx);
    if (!s.transcript_text)
        throw core::ApiError::conflict("", "the transcript is not ready (status " + s.status + ")");
    auto words = db::session_words(ctx.db, s.id);
    if (format == "txt") return Response::text(200, "text/plain", *s.transcript_text + "\n");
    if (format == "srt")
        return Response::text(200, "application/x-subrip; charset=utf-8", render_srt(words));
    if (format == "vtt") return Response::text(200, "text/vtt", render_vtt(words));
    core::JsonWriter w;
    write_transcript(w, s, words);
    return Response::json(200, w.take());
}

// One pending job per session: a reanalyze while the session's job is queued or running
// answers 202 with the session as it stands (that job runs the current code anyway; API.md's
// 202 "runs the analysis again" holds), and queues nothing.
Response sessions_reanalyze(Request& req, Ctx& ctx) {
    db::Session s = session_or_404(req, ctx);
    if (!s.transcript_text)
        throw core::ApiError::conflict("", "nothing to re-analyse before the transcript exists");
    if (s.audio_deleted_at)
        throw core::ApiError::conflict("", "the audio was deleted by the retention policy");
    // Nothing is added for a session whose job is pending: it is answered as that job left it.
    if (!create_or_throw(ctx,
                         [&](db::JobQuota quota) { return db::start_analysis(ctx.db, s, quota); }))
        s = session_or_404(req, ctx);
    return Response::json(202, session_json(s)).header("Location", "/api/v1/sessions/" + s.id);
}

}  // namespace handlers
