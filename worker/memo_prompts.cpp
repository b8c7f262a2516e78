// Voice-to-tasks: a transcribed memo's prompts written to its task (see memo_prompts.h).
#include "worker/memo_prompts.h"

#include <optional>
#include <vector>

#include "db/events.h"
#include "speech/prompts.h"

namespace worker {
namespace {

// The Task resource's bounds on prompts (handlers/tasks.cpp: at most 100, each 1-1000
// characters): what the worker stores, a client can send back unchanged with PUT or PATCH.
constexpr size_t kMaxPromptChars = 1000;
constexpr size_t kMaxPrompts = 100;

// One statement: the memo's tasks locked, changed, and each change logged with
// activity_changes (only the fields that moved; a task that would not change is not touched).
// The title is replaced only while it is the upload's placeholder (title_from_memo, cleared
// by any other title change: 0007's trigger) and only by a non-empty memo title.
// The boards of the memo's tasks, locked first, in board order: every other path that changes
// a task takes its board's lock before the task row and the activity chain's head (board ->
// task -> chain), so this one does too (a project PATCH or DELETE at the same time would
// otherwise deadlock with it, and the loser would be the transcription).
constexpr db::Statement kLockMemoBoards{"memo_lock_boards", R"sql(
    SELECT lock_board(b.board_id)
    FROM (SELECT DISTINCT board_id FROM tasks
          WHERE source_session_id = $1 AND board_id IS NOT NULL ORDER BY board_id) b)sql"};

constexpr db::Statement kFillMemoPrompts{"memo_fill_prompts", R"sql(
    WITH old AS (
        SELECT t.id, t.project_id, t.created_by, t.prompts, t.title,
               CASE WHEN t.title_from_memo AND $3 <> '' THEN $3 ELSE t.title END AS new_title
        FROM tasks t JOIN sessions s ON s.id = t.source_session_id
        WHERE t.source_session_id = $1 AND s.kind = 'memo'
        FOR UPDATE OF t
    ), upd AS (
        UPDATE tasks t
        SET prompts = $2::text[], title = o.new_title,
            title_from_memo = t.title_from_memo AND o.new_title = o.title, updated_at = now()
        FROM old o
        WHERE t.id = o.id AND (o.prompts IS DISTINCT FROM $2::text[] OR o.new_title <> o.title)
        RETURNING t.id, t.project_id, t.created_by, t.prompts, t.title
    ), logged AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT NULL, u.project_id, 'task', u.id, 'updated',
               activity_changes(jsonb_build_object('prompts', to_jsonb(o.prompts), 'title', o.title),
                                jsonb_build_object('prompts', to_jsonb(u.prompts), 'title', u.title))
        FROM upd u JOIN old o ON o.id = u.id
    )
    SELECT id, project_id, created_by FROM upd)sql"};

// task.updated to those who see the task: its project's owner and members, or the creator of
// a personal one (none left when that account is gone).
void announce(db::Db& db, const db::Row& task) {
    const std::string id = task.str("id");
    const std::optional<std::string> project = task.opt("project_id");
    const db::Event ev = db::task_event("task.updated", id, project, std::nullopt);
    if (project) {
        db::publish_to_project(db, *project, ev);
    } else if (auto creator = task.opt("created_by")) {
        db::publish(db, db::Audience::user(*creator), ev);
    }
}

}  // namespace

void fill_memo_prompts(db::Db& db, const std::string& session_id, const speech::Transcript& t) {
    const std::vector<std::string> prompts =
        speech::fit_prompts(speech::split_prompts(t), kMaxPromptChars, kMaxPrompts);
    db.exec(kLockMemoBoards, {session_id});
    const db::Result r = db.exec(
        kFillMemoPrompts, {session_id, db::array_literal(prompts), speech::memo_title(prompts)});
    for (int i = 0; i < r.rows(); ++i) announce(db, db::Row(r, i));
}

}  // namespace worker
