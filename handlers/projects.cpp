// Projects and their members (the team tracker). A project is visible to its owner, its
// members and admins; anyone else gets 404 for it on every route. Owner and admin change it,
// delete it and manage its members; a member doing that gets 403. Every query passes the
// caller's id through project_role() (db/projects.h); a change locks the project row and
// decides there, then writes its activity entries and events in the same transaction.
//
// Decisions where API.md is silent:
//  - member_ids never include the owner: naming the owner there is a 422, and POST
//    .../members with the owner's id is a 409 (the owner is on the project already, but not as
//    a member row; a no-op 200 would answer a project that still does not list them).
//  - Adding an existing member is a no-op 200; removing a user who is not a member is 404.
//  - PATCH owner_id hands the project to one of its current members (owner or admin): the new
//    owner leaves member_ids and the previous owner joins them, unless the same PATCH sends
//    member_ids, which is then the exact member set.
//  - A PATCH after which the caller no longer sees the project (an owner handing it over and
//    leaving the members in the same request) answers 204: there is nothing it may read.
//  - PATCH member_ids and wip_limits replace the whole value; a removed member's tasks in the
//    project are unassigned (Jira's behaviour), each with its own 'task' entry and task.updated.
#include "db/projects.h"
#include "core/problem.h"
#include "db/events.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

#include <algorithm>

namespace handlers {
namespace {

constexpr unsigned kAddMember = kBodyA;  // POST /projects/{id}/members

// The board's columns: the keys a wip_limits object may have.
constexpr const char* kColumns[] = {"todo", "in_progress", "review", "done"};
constexpr int64_t kMaxMembers = 500;
constexpr int64_t kMaxWipLimit = 10000;

using Rec = db::Project;
// clang-format off
constexpr Field kProjectFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "name", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(name),
     .min = 1, .max = 200, .required = kCreate},
    {.name = "description", .type = Type::text, .use = kOut | kCreate | kPatch | kNullable,
     .get = FIELD_GET(description), .max = 20000},
    {.name = "status", .type = Type::enumeration, .use = kOut | kCreate | kPatch | kFilter,
     .get = FIELD_GET(status), .values = db::kProjectStatuses, .def = "active"},
    {.name = "owner_id", .type = Type::uuid, .use = kOut | kPatch, .get = FIELD_GET(owner_id),
     .description = "PATCH (owner or admin): hands the project to one of its members; the "
                    "previous owner becomes a member"},
    {.name = "member_ids", .type = Type::array, .use = kOut | kCreate | kPatch,
     .get = FIELD_GET(member_ids),
     .description = "the members besides the owner, active users; PATCH replaces the set, and a "
                    "removed member's tasks of the project become unassigned",
     .items = Type::uuid, .max_items = kMaxMembers},
    {.name = "wip_limits", .type = Type::object, .use = kOut | kCreate | kPatch,
     .get = FIELD_GET(wip_limits), .min = 1, .max = kMaxWipLimit, .values = kColumns,
     .description = "{status: n}: at most n tasks in that column (a move past it is refused "
                    "unless forced); PATCH replaces the object, {} removes every limit"},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
    {.name = "permissions", .type = Type::object, .use = kOut, .get = FIELD_GET(permissions),
     .ref = "ProjectPermissions"},
    {.name = "q", .type = Type::string, .use = kFilter,
     .description = "name contains (case-insensitive; % and _ are taken literally)"},
    {.name = "user_id", .type = Type::uuid, .use = kAddMember, .description = "an active user",
     .required = kAddMember},
};
constexpr Body kProjectBodies[] = {
    {kCreate, "ProjectCreate"}, {kPatch, "ProjectUpdate"}, {kAddMember, "ProjectMemberAdd"},
};
// clang-format on

}  // namespace

constexpr Resource kProjects{.schema = "Project",
                             .fields = kProjectFields,
                             .bodies = kProjectBodies,
                             .cursor_key = FIELD_GET(cursor_key),
                             .cursor_id = FIELD_GET(id)};

namespace {

bool manages(const db::LockedProject& p) {
    return p.role == "owner" || p.role == "admin";
}

// The project locked for a change by the owner or an admin: 404 when the caller cannot see
// it, 403 for a member. Runs before the body is read: who asks decides before what is asked.
db::LockedProject managed_or_throw(Ctx& ctx, const std::string& caller, const std::string& id,
                                   bool for_delete = false) {
    auto p = db::lock_project(ctx.db, caller, id, for_delete);
    if (!p) throw core::ApiError::not_found("no such project");
    if (!manages(*p))
        throw core::ApiError::forbidden("only the project's owner or an admin may do this");
    return *p;
}

std::string project_json_or_404(Ctx& ctx, const std::string& caller, const std::string& id) {
    auto p = db::find_project(ctx.db, caller, id);
    if (!p) throw core::ApiError::not_found("no such project");
    return to_json(kProjects, *p);
}

void members_or_422(Ctx& ctx, const std::vector<std::string>& ids, const std::string& owner) {
    if (auto bad = db::first_bad_member(ctx.db, ids, owner))
        throw core::ApiError::unprocessable("member_ids[" + std::to_string(bad->index) + "]",
                                            bad->message);
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
    std::vector<std::string> out;
    for (const auto& x : a)
        if (!contains(b, x) && !contains(out, x)) out.push_back(x);
    return out;
}

// A deadlock PostgreSQL broke by aborting us (a board's moves cross a project's rows the other
// way) is retried rather than answered 503; the body is read again each time (it is in memory).
template <class F>
Response retrying(F&& f) {
    for (int attempt = 1;; ++attempt) {
        try {
            return f();
        } catch (const db::DbError& e) {
            if (attempt == 3 || (e.sqlstate != "40P01" && e.sqlstate != "40001")) throw;
        }
    }
}

// Removes members (their tasks unassigned) and tells each once that the project changed, so
// that its client reads it again (and gets 404); from then on it hears nothing of it.
void remove_and_tell(Ctx& ctx, const std::string& actor, const std::string& project_id,
                     const std::vector<std::string>& user_ids, std::vector<std::string>& tasks,
                     std::vector<std::string>* removed = nullptr) {
    db::RemovedMembers r = db::remove_members(ctx.db, actor, project_id, user_ids);
    if (!r.user_ids.empty())
        db::publish(ctx.db, db::Audience::users(r.user_ids),
                    db::project_event("project.updated", project_id, actor));
    tasks.insert(tasks.end(), r.task_ids.begin(), r.task_ids.end());
    if (removed) *removed = std::move(r.user_ids);
}

// The events of a change to the project's audience as it now stands.
void announce(Ctx& ctx, const std::string& actor, const std::string& project_id,
              const std::vector<std::string>& unassigned_tasks) {
    db::publish_to_project(ctx.db, project_id,
                           db::project_event("project.updated", project_id, actor));
    for (const auto& t : unassigned_tasks)
        db::publish_to_project(ctx.db, project_id,
                               db::task_event("task.updated", t, project_id, actor));
}

// PATCH owner_id: one of the project's members (as it stands), or the owner (no change).
std::optional<std::string> new_owner_or_422(Ctx& ctx, const Input& in, const db::LockedProject& p) {
    auto owner = in.str("owner_id");
    if (!owner || *owner == p.owner_id) return std::nullopt;
    if (!contains(p.member_ids, *owner) || db::first_bad_member(ctx.db, {*owner}, p.owner_id))
        throw core::ApiError::unprocessable("owner_id", "must be an active member of the project");
    return owner;
}

}  // namespace

Response projects_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kProjects, req);
    Page p = read_page(req);
    db::ProjectFilter f{q.str("status"), q.str("q"), p.key, p.id};
    std::vector<db::Project> rows = db::list_projects(ctx.db, req.user().id, f, p.limit + 1);
    return list_response(kProjects, rows, p.limit);
}

Response projects_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kProjects, body.get(), kCreate);
    const std::string& caller = req.user().id;
    db::NewProject np{caller,
                      in.take("name"),
                      in.str("description"),
                      in.take("status"),
                      in.str("wip_limits").value_or("{}"),
                      in.list("member_ids").value_or(std::vector<std::string>{})};
    return retrying([&] {
        db::Tx tx(ctx.db);
        members_or_422(ctx, np.member_ids, caller);
        std::string id = db::insert_project(ctx.db, np);
        db::publish_to_project(ctx.db, id, db::project_event("project.created", id, caller));
        std::string json = project_json_or_404(ctx, caller, id);
        tx.commit();
        return Response::json(201, json).header("Location", "/api/v1/projects/" + id);
    });
}

Response projects_get(Request& req, Ctx& ctx) {
    return Response::json(
        200, project_json_or_404(ctx, req.user().id, std::string(req.path_param("id"))));
}

Response projects_update(Request& req, Ctx& ctx) {
    const std::string& caller = req.user().id;
    const std::string id(req.path_param("id"));
    return retrying([&] {
        db::Tx tx(ctx.db);
        db::lock_board(ctx.db, id);  // member removals unassign tasks of the board
        db::LockedProject p = managed_or_throw(ctx, caller, id);
        core::JsonPtr body = json_body(req);
        Input in = read_body(kProjects, body.get(), kPatch);
        std::optional<std::string> new_owner = new_owner_or_422(ctx, in, p);
        const std::string owner = new_owner.value_or(p.owner_id);
        auto given = in.list("member_ids");
        if (given) members_or_422(ctx, *given, owner);
        // The member set after the change (see the top of the file for an ownership transfer).
        std::vector<std::string> target = given ? *given : minus(p.member_ids, {owner});
        if (new_owner && !given) target.push_back(p.owner_id);
        if (new_owner) db::drop_member_row(ctx.db, id, *new_owner);
        db::ProjectChanges c{in.str("name"),   in.str("description"),
                             in.str("status"), in.str("wip_limits"),
                             new_owner,        in.is_null("description")};
        db::update_project(ctx.db, caller, id, c);
        std::vector<std::string> tasks;
        remove_and_tell(ctx, caller, id, minus(minus(p.member_ids, target), {owner}), tasks);
        db::add_members(ctx.db, caller, id, minus(target, p.member_ids));
        announce(ctx, caller, id, tasks);
        auto after = db::find_project(ctx.db, caller, id);
        tx.commit();
        // An owner who handed the project over and left it in the same request sees it no more.
        if (!after) return Response::no_content();
        return Response::json(200, to_json(kProjects, *after));
    });
}

// project.deleted goes out before the rows do, while the audience is still there to read.
Response projects_delete(Request& req, Ctx& ctx) {
    const std::string& caller = req.user().id;
    const std::string id(req.path_param("id"));
    return retrying([&] {
        db::Tx tx(ctx.db);
        db::lock_board(ctx.db, id);
        managed_or_throw(ctx, caller, id, /*for_delete=*/true);
        db::publish_to_project(ctx.db, id, db::project_event("project.deleted", id, caller));
        db::delete_project(ctx.db, caller, id);
        tx.commit();
        return Response::no_content();
    });
}

Response project_members_add(Request& req, Ctx& ctx) {
    const std::string& caller = req.user().id;
    const std::string id(req.path_param("id"));
    return retrying([&] {
        db::Tx tx(ctx.db);
        db::LockedProject p = managed_or_throw(ctx, caller, id);
        core::JsonPtr body = json_body(req);
        Input in = read_body(kProjects, body.get(), kAddMember);
        std::string user = in.take("user_id");
        if (user == p.owner_id)
            throw core::ApiError::conflict("user_id",
                                           "the project's owner is not added as a member");
        if (db::first_bad_member(ctx.db, {user}, p.owner_id))
            throw core::ApiError::unprocessable("user_id", "is not an active user");
        if (!db::add_members(ctx.db, caller, id, {user}).empty()) announce(ctx, caller, id, {});
        std::string json = project_json_or_404(ctx, caller, id);
        tx.commit();
        return Response::json(200, json);
    });
}

Response project_members_remove(Request& req, Ctx& ctx) {
    const std::string& caller = req.user().id;
    const std::string id(req.path_param("id"));
    const std::string user(req.path_param("user_id"));
    return retrying([&] {
        db::Tx tx(ctx.db);
        db::lock_board(ctx.db, id);
        db::LockedProject p = managed_or_throw(ctx, caller, id);
        if (user == p.owner_id)
            throw core::ApiError::conflict("user_id",
                                           "the owner cannot be removed; hand the project to a "
                                           "member first (PATCH owner_id)");
        std::vector<std::string> tasks, removed;
        remove_and_tell(ctx, caller, id, {user}, tasks, &removed);
        if (removed.empty()) throw core::ApiError::not_found("not a member of this project");
        announce(ctx, caller, id, tasks);
        tx.commit();
        return Response::no_content();
    });
}

}  // namespace handlers
