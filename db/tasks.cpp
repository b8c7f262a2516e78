// Tasks and their boards. Positions: a column is its numbered tasks (position 0..k-1) then its
// appended ones (position NULL, by rank: creates that took no lock, see insert_task). Every
// write that renumbers a column holds its board's lock from before it reads the column until
// commit, and numbers the appended tasks first (lock_and_settle); PostgreSQL's READ COMMITTED
// takes a fresh snapshot per statement, so the counts and shifts read after the lock see every
// earlier writer's committed work. The lock is taken in a statement of its own for that reason.
#include "db/tasks.h"

#include <cjson/cJSON.h>
#include <algorithm>
#include <set>

#include "core/c_handles.h"
#include "core/problem.h"
#include "db/events.h"

namespace db {
namespace {

// Read by column name (task_from). cursor_key is each statement's own.
// A task's position as the API shows it: its number, or for a task appended without the board
// lock (position NULL, see insert_task) its place after the column's numbered tasks among the
// appended ones (0012's task_tail_position, spelled out: a SQL function with sub-selects is not
// inlined, and planning its body on every call made GET /tasks/{id} cost 74 buffers, not 10).
// coalesce evaluates the sub-selects only for an appended task.
#define POSITION(r)                                                                               \
    "coalesce(" r ".position, coalesce((SELECT o.position + 1 FROM tasks o WHERE o.board_id = " r \
    ".board_id AND o.status = " r                                                                 \
    ".status AND o.position IS NOT NULL ORDER BY o.position DESC "                                \
    "LIMIT 1), 0) + (SELECT count(*) FROM tasks o WHERE o.board_id = " r                          \
    ".board_id AND "                                                                              \
    "o.status = " r ".status AND o.position IS NULL AND o.rank < " r ".rank))"
#define TASK_COLUMNS \
    "t.id, t.project_id, t.title, t.description, t.status, t.priority, " POSITION("t")     \
    " AS position, "                                                                       \
    "t.assignee_id, to_char(t.due_date, 'YYYY-MM-DD') AS due_date, "                       \
    "array_to_json(t.labels)::text AS labels, array_to_json(t.prompts)::text AS prompts, " \
    "t.source_session_id, t.created_by, api_time(t.created_at) AS created_at, "            \
    "api_time(t.updated_at) AS updated_at, api_time(t.completed_at) AS completed_at, t.board_id"
#define CREATED_KEY "(extract(epoch from t.created_at) * 1000000)::bigint"
// The fields an activity entry compares ({field: [old, new]}): what a client sees and can change.
#define SHOWN(r)                                                                                 \
    "jsonb_build_object('project_id', " r ".project_id, 'title', " r ".title, 'description', " r \
    ".description, 'status', " r ".status, 'priority', " r ".priority, 'position', " r           \
    ".position, 'assignee_id', " r ".assignee_id, 'due_date', " r ".due_date, 'labels', " r      \
    ".labels, 'prompts', " r ".prompts)"
// A column's place on the board (kTaskStatuses order).
#define STATUS_RANK(r) \
    "array_position(ARRAY['todo', 'in_progress', 'review', 'done'], " r ".status)"

// Where a visible task is now (read before its board is locked, then confirmed after).
constexpr Statement kTaskBoard{"task_board", R"sql(
    SELECT t.board_id FROM tasks t
    WHERE t.id = $1 AND task_visible(t.project_id, t.created_by, $2))sql"};

constexpr Statement kFindTask{"task_find",
                              "SELECT " TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key
    FROM tasks t WHERE t.id = $1 AND task_visible(t.project_id, t.created_by, $2))sql",
                              kIdempotent};
constexpr Statement kLockTask{"task_lock",
                              "SELECT " TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key
    FROM tasks t WHERE t.id = $1 AND task_visible(t.project_id, t.created_by, $2)
    FOR UPDATE)sql"};

// May `user` put a task on project $1's board (it sees the project), and may $3 be its
// assignee (the owner or a member: an admin who is neither is not on the team)?
constexpr Statement kProjectRules{"task_project_rules", R"sql(
    SELECT project_role($1, $2) IS NOT NULL AS visible,
           ($3::uuid IS NULL
            OR EXISTS (SELECT 1 FROM projects p WHERE p.id = $1 AND p.owner_id = $3)
            OR EXISTS (SELECT 1 FROM project_members m
                       WHERE m.project_id = $1 AND m.user_id = $3)) AS assignee_ok)sql"};

// A column's size without the task being placed, and its WIP limit (a project's only).
constexpr Statement kColumnState{"task_column_state", R"sql(
    SELECT (SELECT count(*) FROM tasks
            WHERE board_id = $1 AND status = $2 AND id IS DISTINCT FROM $3::uuid) AS n,
           (SELECT coalesce(max(position) + 1, 0) FROM tasks
            WHERE board_id = $1 AND status = $2 AND id IS DISTINCT FROM $3::uuid) AS next,
           (SELECT CASE WHEN jsonb_typeof(p.wip_limits -> $2) = 'number'
                        THEN (p.wip_limits ->> $2)::numeric::bigint END
            FROM projects p WHERE p.id = $1) AS wip_limit)sql"};

// The same for a column whose positions are 0..n-1 (every change but a batch's mid-way state):
// its count is then its last position + 1, read from the end of the (board_id, status,
// position) index, where count(*) reads the whole column under the board lock (6.8 ms at
// 10,000 tasks, so creates slowed as a column grew: bench/api-tracker.sh). Spelled ORDER BY …
// DESC LIMIT 1, not max(): with stale statistics the planner aggregated the whole column for
// max() (3,635 buffers against 3 at 5,000 tasks).
constexpr Statement kColumnTop{"task_column_top", R"sql(
    SELECT coalesce((SELECT position + 1 FROM tasks WHERE board_id = $1 AND status = $2
                     AND position IS NOT NULL ORDER BY position DESC LIMIT 1), 0) AS top,
           EXISTS (SELECT 1 FROM tasks
                   WHERE id = $3::uuid AND board_id = $1 AND status = $2) AS inside,
           (SELECT CASE WHEN jsonb_typeof(p.wip_limits -> $2) = 'number'
                        THEN (p.wip_limits ->> $2)::numeric::bigint END
            FROM projects p WHERE p.id = $1) AS wip_limit)sql"};

// Shifts a column's positions in [$3, $4] by $5, the task $6 itself excepted (the deferred
// unique constraint lets the rows pass each other within the transaction).
constexpr Statement kShift{"task_shift", R"sql(
    UPDATE tasks SET position = position + $5
    WHERE board_id = $1 AND status = $2 AND position BETWEEN $3 AND $4 AND id <> $6)sql"};

constexpr Statement kInsertTask{"task_insert", R"sql(
    WITH t AS (
        INSERT INTO tasks (project_id, created_by, title, description, status, priority,
                           position, assignee_id, due_date, labels, prompts, source_session_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7::integer, $8, $9::date, $10::text[], $11::text[], $12)
        RETURNING *),
    s AS (SELECT t.id, t.project_id, t.title, t.description, t.status, t.priority,
                 )sql" POSITION("t") R"sql( AS position, t.assignee_id, t.due_date, t.labels,
                 t.prompts
          FROM t),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $2, s.project_id, 'task', s.id, 'created', activity_changes(NULL, )sql" SHOWN(
                                                   "s") R"sql()
        FROM s)
    SELECT )sql" TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key,
           t.position IS NULL AND (SELECT s.position FROM s) - coalesce(
               (SELECT o.position + 1 FROM tasks o WHERE o.board_id = t.board_id
                AND o.status = t.status AND o.position IS NOT NULL
                ORDER BY o.position DESC LIMIT 1), 0) >= $13::integer AS long_tail
    FROM t)sql"};

// Every change of a task's row: NULL parameters leave a field alone, the clear flags set null.
// The activity entry is written when something a client sees changed ($16 the actor, $17 the
// action: updated or moved).
constexpr Statement kUpdateTask{"task_update", R"sql(
    WITH prev AS (SELECT * FROM tasks WHERE id = $1 FOR UPDATE),
    nv AS (
        SELECT prev.id,
               coalesce($2, prev.title) AS title,
               CASE WHEN $3::boolean THEN NULL ELSE coalesce($4, prev.description) END AS description,
               coalesce($5, prev.status) AS status,
               coalesce($6, prev.priority) AS priority,
               CASE WHEN $7::boolean THEN NULL ELSE coalesce($8::uuid, prev.assignee_id) END
                   AS assignee_id,
               CASE WHEN $9::boolean THEN NULL ELSE coalesce($10::date, prev.due_date) END AS due_date,
               coalesce($11::text[], prev.labels) AS labels,
               coalesce($12::text[], prev.prompts) AS prompts,
               CASE WHEN $13::boolean THEN NULL ELSE coalesce($14::uuid, prev.project_id) END
                   AS project_id,
               coalesce($15::integer, prev.position) AS position
        FROM prev),
    d AS (SELECT nv.*, activity_changes()sql" SHOWN("prev") ", " SHOWN("nv") R"sql() AS changes
          FROM prev, nv),
    -- Nothing shown changes: the row is left alone (updated_at too), no entry is written.
    u AS (
        UPDATE tasks n SET title = d.title, description = d.description, status = d.status,
            priority = d.priority, assignee_id = d.assignee_id, due_date = d.due_date,
            labels = d.labels, prompts = d.prompts, project_id = d.project_id,
            position = d.position, updated_at = now()
        FROM d WHERE n.id = d.id AND d.changes <> '{}'
        RETURNING n.*),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $16, u.project_id, 'task', u.id, $17, d.changes FROM u, d)
    SELECT )sql" TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key, true AS changed FROM u AS t
    UNION ALL
    SELECT )sql" TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key, false AS changed FROM prev AS t
    WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.changes <> '{}'))sql"};

constexpr Statement kDeleteTask{"task_delete", R"sql(
    WITH t AS (DELETE FROM tasks WHERE id = $1 RETURNING *),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $2, t.project_id, 'task', t.id, 'deleted', activity_changes()sql" SHOWN(
                                                   "t") R"sql(, NULL)
        FROM t)
    SELECT t.id FROM t)sql"};

// A batch's ids in request order, each with its board when the caller sees it (NULL: unknown
// or invisible).
constexpr Statement kBatchBoards{"task_batch_boards", R"sql(
    SELECT i.ord, t.board_id FROM unnest($1::uuid[]) WITH ORDINALITY AS i(id, ord)
    LEFT JOIN tasks t ON t.id = i.id AND task_visible(t.project_id, t.created_by, $2)
    ORDER BY i.ord)sql"};
// The same rows locked, after their boards are: how many are still visible, and on which boards.
constexpr Statement kBatchLock{"task_batch_lock", R"sql(
    SELECT t.id, t.board_id FROM tasks t
    WHERE t.id = ANY($1::uuid[]) AND task_visible(t.project_id, t.created_by, $2)
    FOR UPDATE)sql"};
constexpr Statement kBatchDelete{"task_batch_delete", R"sql(
    WITH t AS (DELETE FROM tasks WHERE id = ANY($1::uuid[]) RETURNING *),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $2, t.project_id, 'task', t.id, 'deleted', activity_changes()sql" SHOWN(
                                                          "t") R"sql(, NULL)
        FROM t)
    SELECT t.id, t.project_id, t.created_by FROM t)sql"};
constexpr Statement kTasksByIds{"task_by_ids",
                                "SELECT " TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key
    FROM unnest($1::uuid[]) WITH ORDINALITY AS i(id, ord) JOIN tasks t ON t.id = i.id
    ORDER BY i.ord)sql"};
// Closes every gap of the boards' columns (after a batch delete), keeping the order.
constexpr Statement kRenumber{"task_renumber", R"sql(
    UPDATE tasks t SET position = r.rn - 1
    FROM (SELECT id, row_number() OVER (PARTITION BY board_id, status ORDER BY position, rank) AS rn
          FROM tasks WHERE board_id = ANY($1::uuid[])) r
    WHERE t.id = r.id AND t.position IS DISTINCT FROM r.rn - 1)sql"};

// Numbers a board's appended tasks (position NULL): after each column's numbered ones, in rank
// order, so that the order clients saw stays. Run under the board lock (lock_and_settle), before
// anything reads or shifts positions. Not a change a client sees: no updated_at, no entry.
constexpr Statement kSettle{"task_settle", R"sql(
    UPDATE tasks t SET position = c.top + u.rn - 1
    FROM (SELECT id, status, row_number() OVER (PARTITION BY status ORDER BY rank) AS rn
          FROM tasks WHERE board_id = $1 AND position IS NULL) u,
         LATERAL (SELECT coalesce((SELECT o.position + 1 FROM tasks o
                                   WHERE o.board_id = $1 AND o.status = u.status
                                     AND o.position IS NOT NULL
                                   ORDER BY o.position DESC LIMIT 1), 0) AS top) c
    WHERE t.id = u.id)sql"};
// The same when nobody holds the board: a create whose column's tail has grown long numbers
// it on the way, but never waits for the lock (whoever holds it numbers the tail anyway).
constexpr Statement kTryLockBoard{"task_try_lock_board", R"sql(
    SELECT pg_try_advisory_xact_lock(1100, hashtext($1::uuid::text)) AS locked)sql"};
// Does project $1's column $2 have a WIP limit? Creates into it are counted under the lock.
constexpr Statement kColumnLimited{"task_column_limited", R"sql(
    SELECT EXISTS (SELECT 1 FROM projects p WHERE p.id = $1
                   AND jsonb_typeof(p.wip_limits -> $2) = 'number') AS limited)sql"};

// Filters are fixed fragments with NULL meaning "any". $7 is a LIKE pattern already escaped.
#define TASK_FILTERS                                \
    " AND ($3::text IS NULL OR t.status = $3)"      \
    " AND ($4::uuid IS NULL OR t.assignee_id = $4)" \
    " AND ($5::text IS NULL OR t.priority = $5)"    \
    " AND ($6::date IS NULL OR t.due_date < $6)"    \
    " AND ($7::text IS NULL OR t.title ILIKE $7 ESCAPE '\\')"
#define BOARD_KEY "(" STATUS_RANK("t") "::bigint * 1000000000 + " POSITION("t") ")"
// One project's tasks in board order (column, then position).
constexpr Statement kListProjectTasks{"task_list_project",
                                      "SELECT " TASK_COLUMNS ", " BOARD_KEY R"sql( AS cursor_key
    FROM tasks t
    WHERE t.board_id = $2 AND t.project_id = $2 AND (SELECT project_role($2, $1)) IS NOT NULL)sql" TASK_FILTERS
                                      R"sql(
      AND ($8::bigint IS NULL OR ()sql" BOARD_KEY R"sql(, t.id) > ($8::bigint, $9::uuid))
    ORDER BY )sql" STATUS_RANK("t") ", " POSITION("t") R"sql(, t.id
    LIMIT $10)sql",
                                      kIdempotent};
// Every visible task, newest first: the caller's personal board and the projects it sees. ($2,
// the project filter, is always NULL here; it is typed so that both lists take one parameter
// list.)
constexpr Statement kListTasks{"task_list",
                               "SELECT " TASK_COLUMNS ", " CREATED_KEY R"sql( AS cursor_key
    FROM tasks t
    WHERE ($2::uuid IS NULL OR TRUE)
      AND (t.board_id = $1
           OR t.project_id IN (SELECT p.id FROM projects p WHERE project_role(p.id, $1) IS NOT NULL))
      AND task_visible(t.project_id, t.created_by, $1))sql" TASK_FILTERS R"sql(
      AND ($8::bigint IS NULL OR ()sql" CREATED_KEY R"sql(, t.id) < ($8::bigint, $9::uuid))
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT $10)sql",
                               kIdempotent};

constexpr Statement kBoardProject{"task_board_project", R"sql(
    SELECT p.wip_limits::text AS wip_limits FROM projects p
    WHERE p.id = $1 AND project_role(p.id, $2) IS NOT NULL)sql",
                                  kIdempotent};
// In the (board_id, status, position) index's order; project_board puts the columns in order.
constexpr Statement kBoardTasks{"task_board_tasks", "SELECT " TASK_COLUMNS R"sql(, '' AS cursor_key
    FROM tasks t WHERE t.board_id = $1 AND project_role($1, $2) IS NOT NULL
    ORDER BY t.board_id, t.status, t.position, t.rank)sql",
                                kIdempotent};

std::vector<std::string> json_strings(const std::string& json) {
    std::unique_ptr<cJSON, core::CDeleter<cJSON_Delete>> doc(cJSON_Parse(json.c_str()));
    std::vector<std::string> out;
    for (const cJSON* c = doc ? doc->child : nullptr; c; c = c->next)
        if (cJSON_IsString(c)) out.emplace_back(c->valuestring);
    return out;
}

Task task_from(const Result& r, int i) {
    Row row(r, i);
    Task t;
    t.id = row.str("id");
    t.project_id = row.opt("project_id");
    t.title = row.str("title");
    t.description = row.opt("description");
    t.status = row.str("status");
    t.priority = row.str("priority");
    t.position = row.i64("position");
    t.assignee_id = row.opt("assignee_id");
    t.due_date = row.opt("due_date");
    t.labels = json_strings(row.str("labels"));
    t.prompts = json_strings(row.str("prompts"));
    t.source_session_id = row.opt("source_session_id");
    t.created_by = row.opt("created_by");
    t.created_at = row.str("created_at");
    t.updated_at = row.str("updated_at");
    t.completed_at = row.opt("completed_at");
    t.board_id = row.str("board_id");
    t.cursor_key = row.str("cursor_key");
    return t;
}

std::optional<Task> maybe_task(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return task_from(r, 0);
}

Param opt_list(const std::optional<std::vector<std::string>>& v) {
    return v ? Param(array_literal(*v)) : Param();
}

const char* flag(bool b) {
    return b ? "true" : "false";
}

// Runs f in the caller's transaction, or in one of its own.
template <class F>
auto in_tx(Db& db, F&& f) -> decltype(f()) {
    if (db.in_transaction()) return f();
    Tx tx(db);
    auto r = f();
    tx.commit();
    return r;
}

// Takes the board's lock and numbers its appended tasks (kSettle): from here on, until
// commit, its columns are 0..n-1 in the position column and the old shift logic holds. A
// lock already held is taken again at once; the numbering is then a no-op.
void lock_and_settle(Db& db, const std::string& board) {
    lock_board(db, board);
    db.exec(kSettle, {board});
}

// The task, locked, with its board locked first. The board is read before the lock and
// confirmed after it: a task moved to another project meanwhile is looked up again.
std::optional<Task> locked_task(Db& db, const std::string& user_id, const std::string& id) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        Result b = db.exec(kTaskBoard, {id, user_id});
        if (b.rows() == 0) return std::nullopt;
        const std::string board = Row(b, 0).str("board_id");
        lock_and_settle(db, board);
        auto t = maybe_task(db.exec(kLockTask, {id, user_id}));
        if (!t || t->board_id == board) return t;
    }
    throw core::ApiError::unavailable("the task kept moving between boards; try again");
}

// The board a task goes to and who may be its assignee there: 422 naming the field otherwise.
// `creator`: the task's creator (a personal board's only possible assignee).
void check_board_rules(Db& db, const std::string& user_id,
                       const std::optional<std::string>& project,
                       const std::optional<std::string>& creator,
                       const std::optional<std::string>& assignee) {
    if (!project) {
        if (assignee && assignee != creator)
            throw core::ApiError::unprocessable(
                "assignee_id", "a personal task can only be assigned to its creator");
        return;
    }
    Result res = db.exec(kProjectRules, {*project, user_id, assignee});
    Row r(res, 0);
    if (!r.boolean("visible")) throw core::ApiError::unprocessable("project_id", "no such project");
    if (!r.boolean("assignee_ok"))
        throw core::ApiError::unprocessable("assignee_id",
                                            "must be the project's owner or one of its members");
}

// The position a task takes last in (board, status), after the WIP check: 409 when the column
// holds its limit already, unless forced. `task_id`: a task already on the board is not counted.
// past_gaps: after the column's highest position rather than at its count (a batch renumbers
// its boards once at its end, so their columns may have gaps until then).
int64_t last_in_column(Db& db, const std::string& board, const std::string& status,
                       const std::optional<std::string>& task_id, bool force,
                       bool past_gaps = false) {
    Result res = db.exec(past_gaps ? kColumnState : kColumnTop, {board, status, task_id});
    Row r(res, 0);
    const int64_t n = past_gaps ? r.i64("n") : r.i64("top") - (r.boolean("inside") ? 1 : 0);
    if (!r.is_null("wip_limit") && !force && n >= r.i64("wip_limit"))
        throw core::ApiError::conflict("status", "the " + status +
                                                     " column is at its WIP limit of " +
                                                     std::to_string(r.i64("wip_limit")) +
                                                     " tasks; send force: true to exceed it");
    return past_gaps ? r.i64("next") : n;
}

void shift(Db& db, const std::string& board, const std::string& status, int64_t from, int64_t to,
           int delta, const std::string& except_id) {
    if (from > to) return;
    db.exec(kShift, {board, status, std::to_string(from), std::to_string(to), std::to_string(delta),
                     except_id});
}

constexpr int64_t kEnd = 2147483647;

constexpr Statement kProjectAudience{"task_project_audience",
                                     "SELECT unnest(project_audience($1::uuid))::text AS user_id"};

// Who hears of a task on a board: the project's owner and members, or a personal board's owner.
void add_audience(Db& db, const std::optional<std::string>& project_id,
                  const std::optional<std::string>& creator, std::set<std::string>& to) {
    if (project_id) {
        for (const auto& id : db.exec(kProjectAudience, {*project_id}).single_column())
            if (id) to.insert(*id);
    } else if (creator) {
        to.insert(*creator);
    }
}

void publish_task(Db& db, const Event& e, const std::optional<std::string>& project_id,
                  const std::optional<std::string>& creator) {
    if (project_id) {
        publish_to_project(db, *project_id, e);
    } else if (creator) {
        publish(db, Audience::user(*creator), e);
    }
}

// An update's row write (kUpdateTask) with its activity entry; changed: something shown changed.
Task write_update(Db& db, const std::string& user_id, const std::string& id, const TaskChanges& c,
                  const std::optional<int64_t>& position, const char* action, bool& changed) {
    Param pos = position ? Param(std::to_string(*position)) : Param();
    Result r = db.exec(
        kUpdateTask, {id, c.title, flag(c.clear_description), c.description, c.status, c.priority,
                      flag(c.clear_assignee), c.assignee_id, flag(c.clear_due_date), c.due_date,
                      opt_list(c.labels), opt_list(c.prompts), flag(c.clear_project), c.project_id,
                      pos, user_id, action});
    changed = Row(r, 0).boolean("changed");
    return task_from(r, 0);
}

// update_task with the task's board(s) already locked by the caller (or locked here: locking a
// held advisory lock again is immediate). in_batch: the old column's gap is left for the
// batch's renumbering (one statement for all its items, not one shift per item).
std::optional<Task> update_locked(Db& db, const std::string& user_id, const std::string& id,
                                  const TaskChanges& c, bool in_batch = false) {
    auto old = locked_task(db, user_id, id);
    if (!old) return std::nullopt;
    std::optional<std::string> project = old->project_id;
    if (c.clear_project) project.reset();
    if (c.project_id) project = c.project_id;
    if (c.clear_project && old->created_by != user_id)
        throw core::ApiError::unprocessable("project_id",
                                            "only the task's creator may make it a personal task");
    const std::string board = project ? *project : old->created_by.value_or(user_id);
    const std::string status = c.status.value_or(old->status);
    std::optional<std::string> assignee = c.clear_assignee ? std::nullopt : old->assignee_id;
    if (c.assignee_id) assignee = c.assignee_id;
    if (project != old->project_id || c.assignee_id)
        check_board_rules(db, user_id, project, old->created_by, assignee);

    std::optional<int64_t> position;
    if (board != old->board_id || status != old->status) {
        if (board != old->board_id) lock_and_settle(db, board);
        position = last_in_column(db, board, status, old->id, c.force, in_batch);
        if (!in_batch) shift(db, old->board_id, old->status, old->position + 1, kEnd, -1, old->id);
    }
    bool changed = false;
    Task t = write_update(db, user_id, id, c, position, "updated", changed);
    if (changed) {
        Event e = task_event("task.updated", t.id, t.project_id, user_id);
        if (old->project_id == t.project_id) {
            publish_task(db, e, t.project_id, t.created_by);
        } else {  // the board it left hears it too, and whoever is on both hears it once
            std::set<std::string> to;
            add_audience(db, t.project_id, t.created_by, to);
            add_audience(db, old->project_id, old->created_by, to);
            publish(db, Audience::users({to.begin(), to.end()}), e);
        }
    }
    return t;
}

}  // namespace

core::ApiError batch_item_error(core::ApiError e, size_t i) {
    const std::string prefix = "[" + std::to_string(i) + "]";
    for (auto& fe : e.errors) fe.field = prefix + (fe.field.empty() ? "" : "." + fe.field);
    if (e.errors.empty()) e.errors.push_back({prefix, e.detail});
    e.detail = prefix + " " + e.detail;
    return e;
}

namespace {

// The boards of a batch's ids, locked in id order (so two batches never wait on each other in
// a cycle), plus `extra` boards it moves tasks to. TaskNotFound names the first id not visible.
std::set<std::string> lock_batch(Db& db, const std::string& user_id,
                                 const std::vector<std::string>& ids,
                                 std::set<std::string> boards) {
    Result r = db.exec(kBatchBoards, {array_literal(ids), user_id});
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        if (row.is_null("board_id")) throw TaskNotFound(static_cast<size_t>(i));
        boards.insert(row.str("board_id"));
    }
    for (const std::string& b : boards) lock_and_settle(db, b);  // std::set: sorted
    Result locked = db.exec(kBatchLock, {array_literal(ids), user_id});
    std::set<std::string> found;
    for (int i = 0; i < locked.rows(); ++i) {
        Row row(locked, i);
        // A task that changed boards before the locks: the batch is refused, not half-locked.
        if (!boards.count(row.str("board_id")))
            throw core::ApiError::unavailable("a task of the batch moved meanwhile; try again");
        found.insert(row.str("id"));
    }
    for (size_t i = 0; i < ids.size(); ++i)
        if (!found.count(ids[i])) throw TaskNotFound(i);
    return boards;
}

}  // namespace

// A create whose column has this many appended tasks before it numbers them (if it can).
constexpr int kLongTail = 32;

// A column with a WIP limit is counted under the board lock (its create is numbered at once);
// any other column is appended to without a lock: a rank from a sequence, no position yet
// (sql/migrations/0012_task_ranks.sql), so creates into one column no longer queue.
Task insert_task(Db& db, const NewTask& n) {
    return in_tx(db, [&] {
        const std::string board = n.project_id ? *n.project_id : n.created_by;
        check_board_rules(db, n.created_by, n.project_id, n.created_by, n.assignee_id);
        const bool limited =
            n.project_id &&
            Row(db.exec(kColumnLimited, {*n.project_id, n.status}), 0).boolean("limited");
        Param position;
        if (limited) {
            lock_and_settle(db, board);
            position =
                Param(std::to_string(last_in_column(db, board, n.status, std::nullopt, n.force)));
        }
        Result r = db.exec(kInsertTask, {n.project_id, n.created_by, n.title, n.description,
                                         n.status, n.priority, position, n.assignee_id, n.due_date,
                                         array_literal(n.labels), array_literal(n.prompts),
                                         n.source_session_id, std::to_string(kLongTail)});
        Task t = task_from(r, 0);
        if (Row(r, 0).boolean("long_tail") &&
            Row(db.exec(kTryLockBoard, {board}), 0).boolean("locked"))
            db.exec(kSettle, {board});
        publish_task(db, task_event("task.created", t.id, t.project_id, n.created_by), t.project_id,
                     t.created_by);
        return t;
    });
}

std::optional<Task> find_task(Db& db, const std::string& user_id, const std::string& id) {
    return maybe_task(db.exec(kFindTask, {id, user_id}));
}

std::optional<Task> update_task(Db& db, const std::string& user_id, const std::string& id,
                                const TaskChanges& c) {
    return in_tx(db, [&] {
        // A task changing boards: both locked up front in id order, as a batch does.
        if (c.project_id || c.clear_project) {
            Result b = db.exec(kTaskBoard, {id, user_id});
            if (b.rows() == 0) return std::optional<Task>();
            std::set<std::string> boards{Row(b, 0).str("board_id"),
                                         c.project_id ? *c.project_id : user_id};
            for (const std::string& board : boards) lock_and_settle(db, board);
        }
        return update_locked(db, user_id, id, c);
    });
}

std::vector<Task> update_tasks(Db& db, const std::string& user_id,
                               const std::vector<std::pair<std::string, TaskChanges>>& items) {
    return in_tx(db, [&] {
        std::vector<std::string> ids;
        std::set<std::string> targets;  // boards tasks move to
        for (const auto& [id, c] : items) {
            ids.push_back(id);
            if (c.project_id) targets.insert(*c.project_id);
            if (c.clear_project) targets.insert(user_id);
        }
        std::set<std::string> boards = lock_batch(db, user_id, ids, std::move(targets));
        for (size_t i = 0; i < items.size(); ++i) {
            try {
                if (!update_locked(db, user_id, items[i].first, items[i].second, true))
                    throw TaskNotFound(i);
            } catch (const core::ApiError& e) {
                throw batch_item_error(e, i);
            }
        }
        db.exec(kRenumber, {array_literal(std::vector<std::string>(boards.begin(), boards.end()))});
        // As they stand after the renumbering, in request order.
        Result r = db.exec(kTasksByIds, {array_literal(ids)});
        std::vector<Task> out;
        out.reserve(items.size());
        for (int i = 0; i < r.rows(); ++i) out.push_back(task_from(r, i));
        return out;
    });
}

void delete_tasks(Db& db, const std::string& user_id, const std::vector<std::string>& ids) {
    in_tx(db, [&] {
        lock_batch(db, user_id, ids, {});
        Result r = db.exec(kBatchDelete, {array_literal(ids), user_id});
        std::set<std::string> boards;
        for (int i = 0; i < r.rows(); ++i) {
            Row row(r, i);
            auto project = row.opt("project_id");
            auto creator = row.opt("created_by");
            boards.insert(project ? *project : creator.value_or(user_id));
            publish_task(db, task_event("task.deleted", row.str("id"), project, user_id), project,
                         creator);
        }
        db.exec(kRenumber, {array_literal(std::vector<std::string>(boards.begin(), boards.end()))});
        return true;
    });
}

std::optional<Task> move_task(Db& db, const std::string& user_id, const std::string& id,
                              const std::string& status, int64_t position, bool force) {
    return in_tx(db, [&]() -> std::optional<Task> {
        auto old = locked_task(db, user_id, id);
        if (!old) return std::nullopt;
        const std::string& board = old->board_id;
        int64_t pos;
        if (status == old->status) {
            const int64_t n = last_in_column(db, board, status, old->id, true);  // others
            pos = std::min(position, n);
            if (pos < old->position) shift(db, board, status, pos, old->position - 1, +1, old->id);
            if (pos > old->position) shift(db, board, status, old->position + 1, pos, -1, old->id);
        } else {
            const int64_t n = last_in_column(db, board, status, old->id, force);
            pos = std::min(position, n);
            shift(db, board, old->status, old->position + 1, kEnd, -1, old->id);
            shift(db, board, status, pos, kEnd, +1, old->id);
        }
        TaskChanges c;
        c.status = status;
        bool changed = false;
        Task t = write_update(db, user_id, id, c, pos, "moved", changed);
        if (changed)
            publish_task(db,
                         task_moved(t.id, t.project_id, old->status, t.status, t.position, user_id),
                         t.project_id, t.created_by);
        return t;
    });
}

bool delete_task(Db& db, const std::string& user_id, const std::string& id) {
    return in_tx(db, [&] {
        auto old = locked_task(db, user_id, id);
        if (!old) return false;
        db.exec(kDeleteTask, {id, user_id});
        shift(db, old->board_id, old->status, old->position + 1, kEnd, -1, old->id);
        publish_task(db, task_event("task.deleted", old->id, old->project_id, user_id),
                     old->project_id, old->created_by);
        return true;
    });
}

std::vector<Task> list_tasks(Db& db, const std::string& user_id, const TaskFilter& f, int limit) {
    Param q = f.q ? Param(like_contains(*f.q)) : Param();
    Result r = db.exec(f.project_id ? kListProjectTasks : kListTasks,
                       {user_id, f.project_id, f.status, f.assignee_id, f.priority, f.due_before, q,
                        f.after_key, f.after_id, std::to_string(limit)});
    std::vector<Task> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(task_from(r, i));
    return out;
}

std::optional<Board> project_board(Db& db, const std::string& user_id,
                                   const std::string& project_id) {
    Result p = db.exec(kBoardProject, {project_id, user_id});
    if (p.rows() == 0) return std::nullopt;
    Board b;
    b.wip_limits_json = Row(p, 0).str("wip_limits");
    // The caller's role is part of this statement too: a membership removed between the two
    // reads shows an empty board, never the tasks.
    Result r = db.exec(kBoardTasks, {project_id, user_id});
    // The index gives the columns in name order; the board's order is kTaskStatuses'.
    for (const char* status : kTaskStatuses)
        for (int i = 0; i < r.rows(); ++i)
            if (Row(r, i).str("status") == status) b.tasks.push_back(task_from(r, i));
    return b;
}

}  // namespace db
