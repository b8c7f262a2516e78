// The activity log: GET /activity (what happened, newest first, as far as the caller may see)
// and GET /activity/verify (admin: the hash chains recomputed). Entries are written by the
// routes that change things (db::record_activity, in their transactions); nothing here, and no
// route anywhere, changes or deletes one.
#include "db/activity.h"
#include "core/problem.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/utc_time.h"

namespace handlers {
namespace {

constexpr const char* kEntities[] = {"project", "task", "member"};

using Rec = db::Activity;
// clang-format off
constexpr Field kActivityFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(at)},
    {.name = "actor_id", .type = Type::uuid, .use = kOut | kFilter | kNullable, .get = FIELD_GET(actor_id),
     .description = "who made the change; null: the system (the worker filling a memo's prompts)"},
    {.name = "project_id", .type = Type::uuid, .use = kOut | kFilter | kNullable, .get = FIELD_GET(project_id),
     .description = "null: a personal task's entry; as a filter, a project the caller cannot see answers 404"},
    {.name = "entity", .type = Type::enumeration, .use = kOut | kFilter, .get = FIELD_GET(entity),
     .values = kEntities},
    {.name = "entity_id", .type = Type::uuid, .use = kOut | kFilter, .get = FIELD_GET(entity_id),
     .description = "the project, task or member (user) changed"},
    {.name = "action", .type = Type::string, .use = kOut, .get = FIELD_GET(action),
     .description = "created, updated, moved, deleted, added, removed"},
    {.name = "changes", .type = Type::object, .use = kOut, .get = FIELD_GET(changes),
     .description = "{field: [old, new]} for every field the change touched"},
    {.name = "from", .type = Type::timestamp, .use = kFilter, .description = "at or after (a date: its UTC midnight)"},
    {.name = "to", .type = Type::timestamp, .use = kFilter, .description = "before (a date: its UTC midnight)"},
};
// clang-format on

}  // namespace

constexpr Resource kActivity{.schema = "Activity",
                             .fields = kActivityFields,
                             .cursor_key = FIELD_GET(seq),
                             .cursor_id = FIELD_GET(id)};

namespace check {
using Rec = db::ActivityCheck;
// clang-format off
constexpr Field kFields[] = {
    {.name = "ok", .type = Type::boolean, .use = kOut, .get = FIELD_GET(ok),
     .description = "true when every entry and every chain head is as written"},
    {.name = "checked", .type = Type::integer, .use = kOut, .get = FIELD_GET(checked),
     .description = "entries examined: all of them"},
    {.name = "first_bad_id", .type = Type::uuid, .use = kOut | kNullable, .get = FIELD_GET(first_bad_id),
     .description = "the first failing entry in the log's order; null when ok, or when nothing of the damaged chain is left"},
};
// clang-format on
}  // namespace check

constexpr Resource kActivityCheck{.schema = "ActivityCheck", .fields = check::kFields};

Response activity_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kActivity, req);
    Page p = read_page(req);
    db::ActivityFilter f{q.str("project_id"),
                         q.str("entity"),
                         q.str("entity_id"),
                         q.str("actor_id"),
                         utc_time(q.str("from")),
                         utc_time(q.str("to")),
                         p.key};
    auto rows = db::list_activity(ctx.db, req.user().id, f, p.limit + 1);
    if (!rows) throw core::ApiError::not_found("no such project");
    return list_response(kActivity, *rows, p.limit);
}

Response activity_verify(Request&, Ctx& ctx) {
    return Response::json(200, to_json(kActivityCheck, db::verify_activity(ctx.db)));
}

}  // namespace handlers
