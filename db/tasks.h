// Tasks on Kanban boards (sql/migrations/0005_tracker.sql): a project's board, or a user's
// personal one (board_id = coalesce(project_id, created_by)). Every change here:
//  - but a create into a column without a WIP limit, locks the board(s) it renumbers first
//    (lock_board, sorted by id when there are several) and numbers their appended tasks, so
//    that each column's positions stay 0..n-1 under any concurrency; the deferred unique
//    (board_id, status, position) constraint catches a mistake at commit. Such a create takes
//    no lock: it appends the task with a rank and no number, and its position is computed when
//    it is read (sql/migrations/0012_task_ranks.sql);
//  - checks access in its SQL with the caller's id (task_visible / project_role): another
//    user's task and no task are the same nullopt (404);
//  - writes its activity entry and publishes its event in the same transaction (the caller's
//    when it has one, else its own), so a rolled-back change leaves neither.
// Refusals a client can fix are core::ApiError (422 naming the field, 409 for a full column).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/problem.h"
#include "db/pg.h"
#include "db/projects.h"  // project_visible, lock_board

namespace db {

// The board's columns, in order.
inline constexpr const char* kTaskStatuses[] = {"todo", "in_progress", "review", "done"};
inline constexpr const char* kTaskPriorities[] = {"low", "medium", "high", "urgent"};

struct Task {
    std::string id;
    std::optional<std::string> project_id;  // nullopt: a personal task
    std::string title;
    std::optional<std::string> description;
    std::string status;
    std::string priority;
    int64_t position = 0;  // 0-based, in its column
    std::optional<std::string> assignee_id;
    std::optional<std::string> due_date;  // YYYY-MM-DD
    std::vector<std::string> labels;
    std::vector<std::string> prompts;
    std::optional<std::string> source_session_id;
    std::optional<std::string> created_by;  // nullopt once the creator's account is gone
    std::string created_at;
    std::string updated_at;
    std::optional<std::string> completed_at;
    std::string board_id;
    std::string cursor_key;  // the list's order key (see list_tasks)
};

struct NewTask {
    std::optional<std::string> project_id;  // must be visible to created_by (else 422)
    std::string title;
    std::optional<std::string> description;
    std::string status = "todo";
    std::string priority = "medium";
    std::optional<std::string>
        assignee_id;  // the project's owner or a member; personal: created_by
    std::optional<std::string> due_date;
    std::vector<std::string> labels;
    std::vector<std::string> prompts;
    std::optional<std::string> source_session_id;
    std::string created_by;  // the caller
    bool force = false;      // create into a column at its WIP limit anyway
};

// Inserts the task last in its column, with its 'created' activity entry and task.created (to
// the project's audience, or to the creator for a personal task). Runs in the caller's
// transaction when there is one (POST /tasks/from-audio adds the session in the same one).
// 422 project_id (not visible), 422 assignee_id (not on the board), 409 (WIP limit).
Task insert_task(Db& db, const NewTask& t);

std::optional<Task> find_task(Db& db, const std::string& user_id, const std::string& id);

// A change of some fields (PATCH, PUT, one batch item). nullopt: unchanged; clear_*: set null.
struct TaskChanges {
    std::optional<std::string> title, description, status, priority, assignee_id, due_date,
        project_id;
    std::optional<std::vector<std::string>> labels, prompts;
    bool clear_description = false, clear_assignee = false, clear_due_date = false;
    bool clear_project = false;  // to the caller's personal board (the creator only)
    bool force = false;          // past a WIP limit
};

// Applies the changes; a new status or project puts the task last in its new column and closes
// the gap in the old one. nullopt: no such task visible to user_id.
std::optional<Task> update_task(Db& db, const std::string& user_id, const std::string& id,
                                const TaskChanges& c);

// A batch: every id must be visible (else TaskNotFound names the first that is not, and nothing
// is changed); one transaction, the boards locked in id order.
struct TaskNotFound : std::runtime_error {
    explicit TaskNotFound(size_t i) : std::runtime_error("no such task"), index(i) {}
    size_t index;
};
std::vector<Task> update_tasks(Db& db, const std::string& user_id,
                               const std::vector<std::pair<std::string, TaskChanges>>& items);
void delete_tasks(Db& db, const std::string& user_id, const std::vector<std::string>& ids);
// A refusal of batch item i, its fields renamed "[i].field" (API.md's batch errors).
core::ApiError batch_item_error(core::ApiError e, size_t i);

// Moves the task to `position` (0-based, past the end = last) of column `status`; the others
// shift. nullopt: not visible.
std::optional<Task> move_task(Db& db, const std::string& user_id, const std::string& id,
                              const std::string& status, int64_t position, bool force);

// Deletes the task and closes its gap. False: not visible.
bool delete_task(Db& db, const std::string& user_id, const std::string& id);

struct TaskFilter {
    std::optional<std::string> project_id, status, assignee_id, priority, due_before, q;
    std::optional<std::string> after_key, after_id;  // the cursor
};
// The caller's visible tasks. With project_id: by column (kTaskStatuses order) then position,
// cursor_key = rank * 1e9 + position; else newest first, cursor_key = created_at in µs.
std::vector<Task> list_tasks(Db& db, const std::string& user_id, const TaskFilter& f, int limit);

struct Board {
    std::string wip_limits_json;  // the project's {status: n}
    std::vector<Task> tasks;      // by column, then position
};
// nullopt: no such project visible to user_id.
std::optional<Board> project_board(Db& db, const std::string& user_id,
                                   const std::string& project_id);

}  // namespace db
