// Tasks: CRUD, the Kanban board, moves, batch update and delete (API.md "Team tracker").
// Access is in db/tasks.cpp's SQL (task_visible / project_role with the caller's id): a task
// the caller cannot see answers 404 exactly like an unknown one.
//
// Decisions where API.md is silent:
//  - WIP limits hold for every way into a column (create, a status change by PUT/PATCH or a
//    batch item, a move): 409 naming `status` unless the body says `force: true`.
//  - PUT replaces the task's content (a left-out field takes its default) but not its board:
//    a left-out project_id keeps it. project_id may change (PUT, PATCH, batch) to another
//    project the caller sees (last in its column there), or to null: the creator's personal
//    board (the creator only). The assignee must be on the new board (422 otherwise).
//  - GET /tasks?project_id= of a project the caller cannot see answers 404, as /activity does.
//  - A batch refuses an id given twice (422 "[i].id"): each item is one change of one task.
#include "db/tasks.h"

#include <set>

#include "core/problem.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

constexpr unsigned kReplace = kBodyA;    // PUT /tasks/{id}
constexpr unsigned kBatchItem = kBodyB;  // one item of PATCH /tasks
constexpr unsigned kMemoForm = kBodyC;   // POST /tasks/from-audio's form fields
constexpr unsigned kMove = kBodyD;       // POST /tasks/{id}/move
constexpr unsigned kIds = kBodyE;        // POST /tasks/batch-delete
constexpr unsigned kEdit = kPatch | kReplace | kBatchItem;

// Batches: API.md's 1–500.
constexpr size_t kMaxBatch = 500;

using Rec = db::Task;
// clang-format off
constexpr Field kTaskFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut | kBatchItem, .get = FIELD_GET(id),
     .description = "(batch item) the task to change", .required = kBatchItem},
    {.name = "project_id", .type = Type::uuid, .use = kOut | kCreate | kEdit | kMemoForm | kFilter | kNullable,
     .get = FIELD_GET(project_id),
     .description = "a project the caller can see (else 422); null: a personal task, seen by its creator "
                    "only. PUT keeps the task's project when left out; a new one puts the task last in its "
                    "column there"},
    {.name = "title", .type = Type::string, .use = kOut | kCreate | kEdit | kMemoForm, .get = FIELD_GET(title),
     .min = 1, .max = 500, .required = kCreate | kReplace},
    {.name = "description", .type = Type::text, .use = kOut | kCreate | kEdit | kNullable,
     .get = FIELD_GET(description), .max = 20000},
    {.name = "status", .type = Type::enumeration, .use = kOut | kCreate | kEdit | kMemoForm | kMove | kFilter,
     .get = FIELD_GET(status), .values = db::kTaskStatuses,
     .description = "the board's column; a change puts the task last in its new column (409 at a WIP limit "
                    "unless force)", .required = kMove, .def = "todo"},
    {.name = "priority", .type = Type::enumeration, .use = kOut | kCreate | kEdit | kMemoForm | kFilter,
     .get = FIELD_GET(priority), .values = db::kTaskPriorities, .def = "medium"},
    {.name = "position", .type = Type::integer, .use = kOut | kMove, .get = FIELD_GET(position),
     .min = 0, .max = 2147483647,
     .description = "0-based place in its column; a move past the end puts it last", .required = kMove},
    {.name = "assignee_id", .type = Type::uuid, .use = kOut | kCreate | kEdit | kFilter | kNullable,
     .get = FIELD_GET(assignee_id),
     .description = "the project's owner or a member (a personal task: its creator), else 422; the filter "
                    "takes `me`", .token = "me"},
    {.name = "due_date", .type = Type::date, .use = kOut | kCreate | kEdit | kNullable, .get = FIELD_GET(due_date)},
    {.name = "labels", .type = Type::array, .use = kOut | kCreate | kEdit, .get = FIELD_GET(labels),
     .min = 1, .max = 50, .description = "at most 20, each 1–50 characters", .def = "[]", .max_items = 20},
    {.name = "prompts", .type = Type::array, .use = kOut | kCreate | kEdit, .get = FIELD_GET(prompts),
     .min = 1, .max = 1000, .description = "the instructions of a voice memo: at most 100, each 1–1000 characters",
     .def = "[]", .max_items = 100},
    {.name = "source_session_id", .type = Type::uuid, .use = kOut | kNullable, .get = FIELD_GET(source_session_id),
     .description = "the memo session the task came from (null once that session is deleted)"},
    {.name = "created_by", .type = Type::uuid, .use = kOut | kNullable, .get = FIELD_GET(created_by)},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
    {.name = "completed_at", .type = Type::timestamp, .use = kOut | kNullable, .get = FIELD_GET(completed_at),
     .description = "when it last reached done; null while it is not done"},
    {.name = "force", .type = Type::boolean, .use = kCreate | kEdit | kMove,
     .description = "place the task even into a column at its WIP limit"},
    {.name = "ids", .type = Type::array, .use = kIds, .description = "the tasks to delete, 1–500 distinct ids",
     .required = kIds, .items = Type::uuid, .min_items = 1, .max_items = kMaxBatch},
    {.name = "due_before", .type = Type::date, .use = kFilter, .description = "due strictly before this date"},
    {.name = "q", .type = Type::string, .use = kFilter, .max = 200,
     .description = "title contains (case-insensitive; % and _ match themselves)"},
};
constexpr Body kTaskBodies[] = {
    {kCreate, "TaskCreate"}, {kPatch, "TaskUpdate"}, {kReplace, "TaskReplace"},
    {kBatchItem, "TaskBatchItem"}, {kMemoForm, "TaskMemoUpload", "file"}, {kMove, "TaskMove"},
    {kIds, "TaskBatchDelete"},
};
// clang-format on

}  // namespace

constexpr Resource kTasks{.schema = "Task",
                          .fields = kTaskFields,
                          .bodies = kTaskBodies,
                          .cursor_key = FIELD_GET(cursor_key),
                          .cursor_id = FIELD_GET(id)};

namespace {

// The change a PATCH (or batch item) body asks for: absent fields stay, null clears.
db::TaskChanges changes_from(const Input& in) {
    db::TaskChanges c;
    c.title = in.str("title");
    c.description = in.str("description");
    c.clear_description = in.is_null("description");
    c.status = in.str("status");
    c.priority = in.str("priority");
    c.assignee_id = in.str("assignee_id");
    c.clear_assignee = in.is_null("assignee_id");
    c.due_date = in.str("due_date");
    c.clear_due_date = in.is_null("due_date");
    c.labels = in.list("labels");
    c.prompts = in.list("prompts");
    c.project_id = in.str("project_id");
    c.clear_project = in.is_null("project_id");
    c.force = in.boolean("force").value_or(false);
    return c;
}

// PUT: every content field is set, a left-out one to its default (project_id: kept).
db::TaskChanges replacement_from(const Input& in) {
    db::TaskChanges c = changes_from(in);
    c.clear_description = !c.description;
    c.status = c.status.value_or("todo");
    c.priority = c.priority.value_or("medium");
    c.clear_assignee = !c.assignee_id;
    c.clear_due_date = !c.due_date;
    if (!c.labels) c.labels.emplace();
    if (!c.prompts) c.prompts.emplace();
    return c;
}

Response task_response(int status, const db::Task& t) {
    return Response::json(status, to_json(kTasks, t));
}

core::ApiError no_such_task() {
    return core::ApiError::not_found("no such task");
}

std::string id_param(Request& req) {
    return std::string(req.path_param("id"));
}

// A task route's body: a refusal of it is answered 404 when the task is not the caller's to
// see, so that a body never tells another user's task from an unknown one (the contract test
// holds every {id} route to that). The look-up runs only when the body is refused.
Input body_for_task(Request& req, Ctx& ctx, const cJSON* root, unsigned bit) {
    try {
        return read_body(kTasks, root, bit);
    } catch (const core::ApiError&) {
        if (!db::find_task(ctx.db, req.user().id, id_param(req))) throw no_such_task();
        throw;
    }
}

// A batch body's array: not an array is 400 (unreadable as a batch); a count outside 1–500 is
// 422, as batch-delete's `ids` (API.md: 1–500 items), naming the body itself ("").
const cJSON* batch_array(const cJSON* root) {
    if (!cJSON_IsArray(root))
        throw core::ApiError::bad_request("body must be a JSON array of changes");
    const size_t n = static_cast<size_t>(cJSON_GetArraySize(root));
    if (n == 0)
        throw core::ApiError::unprocessable("", "the batch is empty: send 1 to 500 changes");
    if (n > kMaxBatch)
        throw core::ApiError::unprocessable(
            "", "the batch has " + std::to_string(n) + " changes; at most 500 are taken at once");
    return root;
}

// 422 "[i].id" (or "ids[i]") for the first id given twice.
void refuse_duplicates(const std::vector<std::string>& ids, bool items) {
    std::set<std::string> seen;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (seen.insert(ids[i]).second) continue;
        if (items)
            throw db::batch_item_error(
                core::ApiError::unprocessable("id", "appears twice in the batch"), i);
        throw core::ApiError::unprocessable("ids[" + std::to_string(i) + "]",
                                            "appears twice in the batch");
    }
}

core::ApiError not_found_in_batch(const std::string& field) {
    core::ApiError err = core::ApiError::not_found("no such task: " + field);
    err.errors.push_back({field, "no such task"});
    return err;
}

}  // namespace

Response tasks_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kTasks, body.get(), kCreate);
    db::NewTask n;
    n.project_id = in.str("project_id");
    n.title = in.take("title");
    n.description = in.str("description");
    n.status = *in.str("status");
    n.priority = *in.str("priority");
    n.assignee_id = in.str("assignee_id");
    n.due_date = in.str("due_date");
    n.labels = *in.list("labels");
    n.prompts = *in.list("prompts");
    n.created_by = req.user().id;
    n.force = in.boolean("force").value_or(false);
    db::Task t = db::insert_task(ctx.db, n);
    return task_response(201, t).header("Location", "/api/v1/tasks/" + t.id);
}

Response tasks_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kTasks, req);
    Page p = read_page(req);
    db::TaskFilter f{q.str("project_id"),
                     q.str("status"),
                     q.str("assignee_id"),
                     q.str("priority"),
                     q.str("due_before"),
                     q.str("q"),
                     p.key,
                     p.id};
    if (f.assignee_id == "me") f.assignee_id = req.user().id;
    std::vector<db::Task> rows = db::list_tasks(ctx.db, req.user().id, f, p.limit + 1);
    if (rows.empty() && f.project_id && !db::project_visible(ctx.db, *f.project_id, req.user().id))
        throw core::ApiError::not_found("no such project");
    return list_response(kTasks, rows, p.limit);
}

Response tasks_get(Request& req, Ctx& ctx) {
    auto t = db::find_task(ctx.db, req.user().id, id_param(req));
    if (!t) throw no_such_task();
    return task_response(200, *t);
}

Response tasks_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = body_for_task(req, ctx, body.get(), kPatch);
    auto t = db::update_task(ctx.db, req.user().id, id_param(req), changes_from(in));
    if (!t) throw no_such_task();
    return task_response(200, *t);
}

Response tasks_replace(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = body_for_task(req, ctx, body.get(), kReplace);
    auto t = db::update_task(ctx.db, req.user().id, id_param(req), replacement_from(in));
    if (!t) throw no_such_task();
    return task_response(200, *t);
}

Response tasks_delete(Request& req, Ctx& ctx) {
    if (!db::delete_task(ctx.db, req.user().id, id_param(req))) throw no_such_task();
    return Response::no_content();
}

Response tasks_move(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = body_for_task(req, ctx, body.get(), kMove);
    auto t = db::move_task(ctx.db, req.user().id, id_param(req), *in.str("status"),
                           std::stoll(*in.str("position")), in.boolean("force").value_or(false));
    if (!t) throw no_such_task();
    return task_response(200, *t);
}

// {columns: [{status, wip_limit, tasks}]}, the four columns in board order.
Response projects_board(Request& req, Ctx& ctx) {
    auto b = db::project_board(ctx.db, req.user().id, id_param(req));
    if (!b) throw core::ApiError::not_found("no such project");
    core::JsonPtr limits(cJSON_Parse(b->wip_limits_json.c_str()));
    core::JsonWriter w;
    w.begin_object().key("columns").begin_array();
    size_t next = 0;
    for (const char* status : db::kTaskStatuses) {
        w.begin_object().field("status", status).key("wip_limit");
        const cJSON* limit = cJSON_GetObjectItemCaseSensitive(limits.get(), status);
        cJSON_IsNumber(limit) ? w.value(static_cast<int64_t>(limit->valuedouble)) : w.null();
        w.key("tasks").begin_array();
        for (; next < b->tasks.size() && b->tasks[next].status == status; ++next) {
            w.begin_object();
            write_fields(w, kTasks, &b->tasks[next]);
            w.end_object();
        }
        w.end_array().end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
}

// Every item is validated before anything is written; then one transaction (db::update_tasks).
Response tasks_batch_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    const cJSON* items = batch_array(body.get());
    std::vector<std::pair<std::string, db::TaskChanges>> changes;
    std::vector<std::string> ids;
    size_t i = 0;
    for (const cJSON* item = items->child; item; item = item->next, ++i) {
        try {
            Input in = read_body(kTasks, item, kBatchItem);
            ids.push_back(in.take("id"));
            changes.emplace_back(ids.back(), changes_from(in));
        } catch (const core::ApiError& e) {
            throw db::batch_item_error(e, i);
        }
    }
    refuse_duplicates(ids, true);
    std::vector<db::Task> out;
    try {
        out = db::update_tasks(ctx.db, req.user().id, changes);
    } catch (const db::TaskNotFound& e) {
        throw not_found_in_batch("[" + std::to_string(e.index) + "].id");
    }
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const db::Task& t : out) {
        w.begin_object();
        write_fields(w, kTasks, &t);
        w.end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
}

Response tasks_batch_delete(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kTasks, body.get(), kIds);
    std::vector<std::string> ids = *in.list("ids");
    refuse_duplicates(ids, false);
    try {
        db::delete_tasks(ctx.db, req.user().id, ids);
    } catch (const db::TaskNotFound& e) {
        throw not_found_in_batch("ids[" + std::to_string(e.index) + "]");
    }
    return Response::no_content();
}

}  // namespace handlers
