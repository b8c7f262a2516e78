// Voice-to-tasks: POST /tasks/from-audio. The same upload as POST /sessions (every format, the
// same limits, the same refusals with nothing stored, the same job quota), stored as a session
// of kind memo together with its task (prompts [], source_session_id) in ONE transaction:
// either both exist and the file is in place, or none of the three. The worker fills the
// prompts later (worker/memo_prompts.cpp).
#include <string>

#include "core/config.h"
#include "core/problem.h"
#include "core/temp_file.h"
#include "core/utf8.h"
#include "db/session_jobs.h"
#include "db/session_rules.h"
#include "db/sessions.h"
#include "db/tasks.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/uploads.h"
#include "speech/languages.h"

namespace handlers {
namespace {

// The title a task from a memo has until its transcription gives one (when the upload gave
// none): shown at once, replaced by the worker (sql/migrations/0007_memo_tasks.sql). A silent
// memo keeps it.
constexpr const char* kPlaceholderTitle = "Voice memo";
// The upload's text fields are kTasks' TaskMemoUpload body (handlers/tasks.cpp): title
// (1-500), project_id, status (todo), priority (medium); the OpenAPI schema comes from there.
constexpr unsigned kMemoForm = kBodyC;

// Marks the task's title as the placeholder the worker may replace (in the transaction that
// made the task).
constexpr db::Statement kMarkTitleFromMemo{"task_memos_mark_title", R"sql(
    UPDATE tasks SET title_from_memo = true WHERE id = $1)sql"};

// At most `max` characters of valid UTF-8 text, cut at a character boundary.
std::string cut_chars(const std::string& s, size_t max) {
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
        if (chars++ == max) return s.substr(0, i);
    }
    return s;
}

struct MemoUpload {
    db::NewSession session;
    db::NewTask task;
    bool titled = false;  // the upload named the task
};

MemoUpload memo_from(const ReceivedAudio& up, const std::string& user_id, Ctx& ctx) {
    Input in = read_form(kTasks, up.fields, kMemoForm);
    MemoUpload m;
    m.titled = in.str("title").has_value();
    m.task.title = in.str("title").value_or(kPlaceholderTitle);
    m.task.project_id = in.str("project_id");
    m.task.status = *in.str("status");
    m.task.priority = *in.str("priority");
    m.task.created_by = user_id;
    // 422 before anything is stored: insert_task checks it again in its SQL.
    if (m.task.project_id && !db::project_visible(ctx.db, *m.task.project_id, user_id))
        throw core::ApiError::unprocessable("project_id", "no such project, or not one of yours");

    db::NewSession& s = m.session;
    s.id = core::new_uuid();
    s.user_id = user_id;
    s.kind = "memo";
    s.title = m.titled ? cut_chars(m.task.title, db::kSessionTitleMaxChars) : "";
    s.language = speech::kDefaultLanguage;
    speech::require_installed(ctx.cfg.model_root, s.language);
    s.audio_format = up.info.format;
    s.audio_mime = up.info.mime;
    s.audio_bytes = up.file->size();
    if (up.info.duration_s >= 0) s.duration_s = up.info.duration_s;
    s.audio_path = s.id + "." + up.info.format;
    return m;
}

std::string memo_json(const db::Task& t, const db::Session& s) {
    core::JsonWriter w;
    w.begin_object();
    w.key("task").raw(to_json(kTasks, t));
    w.key("session").raw(to_json(kSessions, s));
    w.end_object();
    return w.take();
}

}  // namespace

Response tasks_from_audio(Request& req, Ctx& ctx) {
    const std::string user_id = req.user().id;
    job_quota_or_throw(ctx, user_id);  // before the body is read
    ReceivedAudio up = receive_audio(req, ctx, body_fields(kTasks, kMemoForm));
    MemoUpload m = memo_from(up, user_id, ctx);
    const std::string final_path = audio_dir(ctx) + "/" + m.session.audio_path;
    try {
        up.file->commit_to(final_path);
    } catch (const core::DiskFullError&) {
        throw core::ApiError::insufficient_storage();
    }
    core::FileGuard guard(final_path);  // removed again unless the rows commit
    db::Task task;
    db::Session s = create_or_throw(ctx, [&](db::JobQuota quota) {
        return db::create_session(ctx.db, m.session, db::SessionStart::transcribe, quota,
                                  [&](const db::Session& row) {
                                      m.task.source_session_id = row.id;
                                      task = db::insert_task(ctx.db, m.task);
                                      if (!m.titled) ctx.db.exec(kMarkTitleFromMemo, {task.id});
                                  });
    });
    guard.release();
    return Response::json(202, memo_json(task, s)).header("Location", "/api/v1/tasks/" + task.id);
}

}  // namespace handlers
