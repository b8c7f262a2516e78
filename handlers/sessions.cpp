// Sessions (recordings): upload, list, read, change, delete, audio download, transcript in
// four formats, re-analysis. Every query carries the caller's id: another user's session
// answers 404 on every route, audio included.
#include <unistd.h>

#include <cstdio>

#include "core/config.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/temp_file.h"
#include "db/events.h"
#include "db/jobs.h"
#include "db/sessions.h"
#include "handlers/common.h"
#include "handlers/routes.h"
#include "handlers/transcript_formats.h"
#include "handlers/uploads.h"
#include "speech/recognizer.h"

namespace handlers {
namespace {

constexpr const char* kKinds[] = {"practice", "scribe", "interview", "memo"};
constexpr const char* kStatuses[] = {"queued", "processing", "done", "failed"};

template <size_t N>
bool one_of(const std::string& v, const char* const (&allowed)[N]) {
    for (const char* a : allowed)
        if (v == a) return true;
    return false;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

void write_session(core::JsonWriter& w, const db::Session& s) {
    w.begin_object()
        .field("id", s.id)
        .field("kind", s.kind)
        .field("title", s.title)
        .field("status", s.status)
        .key("progress")
        .raw(num(s.progress))
        .key("error");
    s.error ? w.value(*s.error) : w.null();
    w.key("duration_s");
    s.duration_s ? w.raw(num(*s.duration_s)) : w.null();
    w.field("audio_format", s.audio_format).field("language", s.language).key("patient_id");
    s.patient_id ? w.value(*s.patient_id) : w.null();
    w.key("project_id");
    s.project_id ? w.value(*s.project_id) : w.null();
    w.key("summary");
    s.summary ? w.value(*s.summary) : w.null();
    w.key("notes");
    s.notes ? w.value(*s.notes) : w.null();
    w.field("created_at", s.created_at).field("updated_at", s.updated_at);
}

void write_transcript(core::JsonWriter& w, const db::Session& s,
                      const std::vector<db::StoredWord>& words) {
    w.begin_object().field("text", s.transcript_text.value_or("")).key("words").begin_array();
    for (const auto& word : words) {
        w.begin_object()
            .field("word", word.word)
            .key("start_s")
            .raw(num(word.start_s))
            .key("end_s")
            .raw(num(word.end_s))
            .key("confidence")
            .raw(num(word.confidence))
            .field("filler", word.filler)
            .end_object();
    }
    w.end_array().field("engine", s.engine.value_or("")).end_object();
}

std::string session_json(const db::Session& s) {
    core::JsonWriter w;
    write_session(w, s);
    w.end_object();
    return w.take();
}

db::Session session_or_404(Request& req, Ctx& ctx) {
    auto s = db::find_session(ctx.db, req.user().id, std::string(req.path_param("id")));
    if (!s) throw core::ApiError::not_found("no such session");
    return *s;
}

std::optional<std::string> uuid_field(const std::map<std::string, std::string>& fields,
                                      const char* name) {
    auto it = fields.find(name);
    if (it == fields.end() || it->second.empty()) return std::nullopt;
    std::string v = it->second;
    if (!core::normalise_uuid(v)) throw core::ApiError::unprocessable(name, "must be a UUID");
    return v;
}

// The fields of an upload, validated: kind, title, language, patient_id, project_id.
db::NewSession new_session_from(const std::map<std::string, std::string>& f, Ctx& ctx) {
    db::NewSession s;
    auto get = [&](const char* k, const char* def) {
        auto it = f.find(k);
        return it == f.end() || it->second.empty() ? std::string(def) : it->second;
    };
    s.kind = get("kind", "practice");
    if (!one_of(s.kind, kKinds))
        throw core::ApiError::unprocessable("kind", "must be practice, scribe, interview or memo");
    s.title = get("title", "");
    if (core::utf8_length(s.title) > 200)
        throw core::ApiError::unprocessable("title", "must be at most 200 characters");
    s.language = get("language", "en-us");
    auto installed = speech::installed_languages(ctx.cfg.model_root);
    if (std::find(installed.begin(), installed.end(), s.language) == installed.end()) {
        std::string list;
        for (const auto& l : installed) list += (list.empty() ? "" : ", ") + l;
        throw core::ApiError::unprocessable("language", "not installed; installed: " + list);
    }
    s.patient_id = uuid_field(f, "patient_id");
    s.project_id = uuid_field(f, "project_id");
    return s;
}

std::optional<std::string> time_param(const Request& req, const char* name) {
    auto v = req.query.get(name);
    if (!v) return std::nullopt;
    return rfc3339_or_throw(*v, name);
}

std::optional<std::string> enum_param(const Request& req, const char* name,
                                      bool (*valid)(const std::string&)) {
    auto v = req.query.get(name);
    if (!v) return std::nullopt;
    std::string s(*v);
    if (!valid(s)) throw core::ApiError::bad_request("unknown value", name);
    return s;
}

std::optional<std::string> uuid_param(const Request& req, const char* name) {
    auto v = req.query.get(name);
    if (!v) return std::nullopt;
    std::string s(*v);
    if (!core::normalise_uuid(s)) throw core::ApiError::bad_request("must be a UUID", name);
    return s;
}

// What a user over the job quota is told to wait: about the time a short job takes.
constexpr int kQuotaRetryAfterS = 30;

// jobs.max_queued_per_user: a user's queued and running jobs are bounded, so that one account
// cannot fill the queue in front of everyone else.
core::ApiError over_job_quota(const Ctx& ctx, int64_t pending) {
    core::ApiError e = core::ApiError::too_many_requests(kQuotaRetryAfterS);
    e.detail = "you have " + std::to_string(pending) +
               " recordings waiting to be processed (the most allowed is " +
               std::to_string(ctx.cfg.jobs_max_queued_per_user) + "); try again when they are done";
    return e;
}

// `locked`: inside the transaction that enqueues (exact: the user's enqueues are serialised
// until it ends); else the cheap early check an upload makes before its body is read.
void job_quota_or_throw(Ctx& ctx, const std::string& user_id, bool locked) {
    int64_t pending =
        locked ? db::lock_job_quota(ctx.db, user_id) : db::count_pending_jobs(ctx.db, user_id);
    if (pending >= ctx.cfg.jobs_max_queued_per_user) throw over_job_quota(ctx, pending);
}

// The lane a job starts on, from the duration known so far: the header's for an upload, the
// decoded one after a transcription. Unknown goes long; a short-lane job found longer while
// decoding is moved by the worker (db::move_job_to_long_lane).
const char* lane_for(const std::optional<double>& duration_s) {
    return duration_s && *duration_s <= db::kShortLaneSeconds ? "short" : "long";
}

void publish_session_event(Ctx& ctx, const db::Session& s, const char* event) {
    core::JsonWriter w;
    w.begin_object().field("id", s.id).field("status", s.status).key("progress");
    w.raw(num(s.progress)).end_object();
    db::publish_event(ctx.db, s.user_id, event, w.take());
}

}  // namespace

Response sessions_create(Request& req, Ctx& ctx) {
    job_quota_or_throw(ctx, req.user().id, /*locked=*/false);  // before the body is read
    ReceivedAudio up =
        receive_audio(req, ctx, {"title", "kind", "patient_id", "project_id", "language"});
    db::NewSession ns = new_session_from(up.fields, ctx);
    ns.id = core::new_uuid();
    ns.user_id = req.user().id;
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
    db::Tx tx(ctx.db);
    job_quota_or_throw(ctx, ns.user_id, /*locked=*/true);
    db::Session s = db::insert_session(ctx.db, ns);
    db::enqueue_job(ctx.db, "transcribe", s.id, s.user_id, lane_for(ns.duration_s));
    publish_session_event(ctx, s, "session.created");
    tx.commit();
    guard.release();
    return Response::json(202, session_json(s)).header("Location", "/api/v1/sessions/" + s.id);
}

Response sessions_list(Request& req, Ctx& ctx) {
    allow_params(req,
                 {"limit", "cursor", "kind", "status", "patient_id", "project_id", "from", "to"});
    int limit = core::limit_or_throw(req.query);
    db::SessionFilter f;
    f.kind = enum_param(req, "kind", [](const std::string& v) { return one_of(v, kKinds); });
    f.status = enum_param(req, "status", [](const std::string& v) { return one_of(v, kStatuses); });
    f.patient_id = uuid_param(req, "patient_id");
    f.project_id = uuid_param(req, "project_id");
    f.from = time_param(req, "from");
    f.to = time_param(req, "to");
    if (auto c = req.query.get("cursor"))
        std::tie(f.before_key, f.before_id) = decode_cursor_or_throw(*c);
    std::vector<db::Session> rows = db::list_sessions(ctx.db, req.user().id, f, limit + 1);
    bool more = static_cast<int>(rows.size()) > limit;
    if (more) rows.pop_back();
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const auto& s : rows) {
        write_session(w, s);
        w.end_object();
    }
    w.end_array().key("next_cursor");
    more ? w.value(encode_cursor(rows.back().cursor_key, rows.back().id)) : w.null();
    w.end_object();
    return Response::json(200, w.take());
}

Response sessions_get(Request& req, Ctx& ctx) {
    allow_params(req, {});
    db::Session s = session_or_404(req, ctx);
    core::JsonWriter w;
    write_session(w, s);
    if (s.transcript_text) {
        w.key("transcript");
        write_transcript(w, s, db::session_words(ctx.db, s.id));
    }
    if (auto a = db::session_analysis_json(ctx.db, s.id)) w.key("analysis").raw(*a);
    w.end_object();
    return Response::json(200, w.take());
}

Response sessions_update(Request& req, Ctx& ctx) {
    allow_params(req, {});
    core::JsonPtr body = json_body(req);
    core::ObjectReader r(body.get());
    db::SessionChanges c;
    c.title = r.optional_string("title", 0, 200);
    c.summary = r.optional_string("summary", 0, 20000);
    c.notes = r.optional_string("notes", 0, 20000);
    if (r.has("patient_id") && !r.optional_string("patient_id", 0, 64)) {
        c.clear_patient = true;  // explicit null
    } else if (auto p = r.optional_string("patient_id", 36, 36)) {
        std::string id = *p;
        if (!core::normalise_uuid(id))
            throw core::ApiError::unprocessable("patient_id", "must be a UUID");
        c.patient_id = id;
    }
    r.finish();
    auto s = db::update_session(ctx.db, req.user().id, std::string(req.path_param("id")), c);
    if (!s) throw core::ApiError::not_found("no such session");
    return Response::json(200, session_json(*s));
}

Response sessions_delete(Request& req, Ctx& ctx) {
    allow_params(req, {});
    auto path = db::delete_session(ctx.db, req.user().id, std::string(req.path_param("id")));
    if (!path) throw core::ApiError::not_found("no such session");
    remove_audio_files(ctx, {*path});
    return Response::no_content();
}

// nginx serves the file (Range, sendfile) after this ownership check: X-Accel-Redirect to an
// internal location whose types map the stored format to its audio/* type.
Response sessions_audio(Request& req, Ctx& ctx) {
    allow_params(req, {});
    db::Session s = session_or_404(req, ctx);
    Response res = Response::no_content();
    res.status = 200;
    res.header("X-Accel-Redirect", "/_audio/" + s.audio_path);
    return res;
}

Response sessions_transcript(Request& req, Ctx& ctx) {
    allow_params(req, {"format"});
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
    allow_params(req, {});
    db::Session s = session_or_404(req, ctx);
    if (!s.transcript_text)
        throw core::ApiError::conflict("", "nothing to re-analyse before the transcript exists");
    db::Tx tx(ctx.db);
    int64_t pending = db::lock_job_quota(ctx.db, s.user_id);
    if (db::enqueue_job(ctx.db, "analyze", s.id, s.user_id, lane_for(s.duration_s))) {
        // Over the quota the insert rolls back; a session whose job is pending is answered
        // below whatever the quota, since nothing is added for it.
        if (pending >= ctx.cfg.jobs_max_queued_per_user) throw over_job_quota(ctx, pending);
        s.status = "processing";
        s.progress = 0.5;  // the transcript stands; only the analysis runs again
        db::set_session_progress(ctx.db, s.id, s.status, s.progress);
    } else {
        s = session_or_404(req, ctx);  // as the pending job left it
    }
    tx.commit();
    return Response::json(202, session_json(s)).header("Location", "/api/v1/sessions/" + s.id);
}

}  // namespace handlers
