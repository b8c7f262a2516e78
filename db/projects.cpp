// Queries on projects and members; SQL at the top, one function per statement.
#include "db/projects.h"

namespace db {
namespace {

// What an activity entry compares (activity_changes of two of these gives {field: [old, new]}).
// member_ids are not in it: each member change has its own 'member' entry.
#define PROJECT_SNAPSHOT(p)                                                                 \
    "jsonb_build_object('name', " p ".name, 'description', " p ".description, 'status', " p \
    ".status, 'owner_id', " p ".owner_id, 'wip_limits', " p ".wip_limits)"

// Read by column name (project_from). `r.role` is project_role(p.id, caller): the permissions
// come from the same statement that found the row.
#define PROJECT_COLUMNS                                                                        \
    "p.id, p.name, p.description, p.status, p.owner_id, "                                      \
    "(SELECT coalesce(json_agg(m.user_id ORDER BY m.added_at, m.user_id), '[]')::text "        \
    " FROM project_members m WHERE m.project_id = p.id) AS member_ids, "                       \
    "p.wip_limits::text AS wip_limits, r.role AS role, "                                       \
    "json_build_object('edit', r.role IN ('owner', 'admin'), "                                 \
    "                  'delete', r.role IN ('owner', 'admin'), "                               \
    "                  'manage_members', r.role IN ('owner', 'admin'))::text AS permissions, " \
    "api_time(p.created_at) AS created_at, api_time(p.updated_at) AS updated_at, "             \
    "(extract(epoch from p.created_at) * 1000000)::bigint AS cursor_key"
#define PROJECT_FROM \
    " FROM projects p CROSS JOIN LATERAL (SELECT project_role(p.id, $1::uuid) AS role) r "

constexpr Statement kFindProject{"find_project", "SELECT " PROJECT_COLUMNS PROJECT_FROM R"sql(
    WHERE p.id = $2 AND r.role IS NOT NULL)sql",
                                 kIdempotent};

// q is taken literally: the parameter is like_contains(q) (db/pg.h).
constexpr Statement kListProjects{"list_projects", "SELECT " PROJECT_COLUMNS PROJECT_FROM R"sql(
    WHERE r.role IS NOT NULL
      AND ($2::text IS NULL OR p.status = $2)
      AND ($3::text IS NULL
           OR p.name ILIKE $3 ESCAPE '\')
      AND ($4::bigint IS NULL
           OR ((extract(epoch from p.created_at) * 1000000)::bigint, p.id) < ($4::bigint, $5::uuid))
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT $6)sql",
                                  kIdempotent};

constexpr Statement kProjectVisible{
    "project_visible", "SELECT project_role($1::uuid, $2::uuid) IS NOT NULL", kIdempotent};

// The row lock comes first, in a statement of its own: the role is then read by a statement
// that starts after the lock was granted, so it sees whatever the transaction that held the
// lock committed (an ownership transfer, a removal). Read in the locking statement itself, a
// waiter would judge by its snapshot from before the wait. NO KEY UPDATE for a change (task
// inserts' foreign key checks still pass), UPDATE for a delete.
constexpr Statement kLockProjectRow{"lock_project_row",
                                    "SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE"};
constexpr Statement kLockProjectRowForDelete{"lock_project_row_for_delete",
                                             "SELECT 1 FROM projects WHERE id = $1 FOR UPDATE"};
constexpr Statement kLockedProject{"locked_project", R"sql(
    SELECT project_role(p.id, $1::uuid) AS role, p.owner_id,
           )sql" PROJECT_SNAPSHOT("p") R"sql(::text AS snapshot,
           array_to_string(ARRAY(SELECT m.user_id FROM project_members m
                                 WHERE m.project_id = p.id ORDER BY m.added_at, m.user_id), ',')
               AS member_ids
    FROM projects p WHERE p.id = $2)sql"};

constexpr Statement kLockBoard{"lock_board", "SELECT lock_board($1::uuid)"};

constexpr Statement kFirstBadMember{"first_bad_member", R"sql(
    SELECT (a.ord - 1)::bigint AS idx,
           CASE WHEN a.id = $2::uuid THEN 'is the project''s owner (the owner is not a member)'
                ELSE 'is not an active user' END AS message
    FROM unnest($1::uuid[]) WITH ORDINALITY AS a(id, ord)
    LEFT JOIN users u ON u.id = a.id AND u.is_active
    WHERE u.id IS NULL OR a.id = $2::uuid
    ORDER BY a.ord LIMIT 1)sql"};

// The project, its members and their entries in one statement ('project' created first).
constexpr Statement kInsertProject{"insert_project", R"sql(
    WITH p AS (
        INSERT INTO projects (owner_id, name, description, status, wip_limits)
        VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING *),
    m AS (
        INSERT INTO project_members (project_id, user_id)
        SELECT p.id, d.id FROM p, (SELECT DISTINCT unnest($6::uuid[]) AS id) d
        RETURNING user_id),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $1, x.project_id, x.entity, x.entity_id, x.action, x.changes
        FROM (SELECT 1 AS k, p.id AS project_id, 'project' AS entity, p.id AS entity_id,
                     'created' AS action,
                     activity_changes(NULL, )sql" PROJECT_SNAPSHOT("p") R"sql() AS changes
              FROM p
              UNION ALL
              SELECT 2, p.id, 'member', m.user_id, 'added', '{}'::jsonb FROM p, m) x
        ORDER BY x.k, x.entity_id)
    SELECT id FROM p)sql"};

// `old` reads the row as it was before the UPDATE of the same statement.
constexpr Statement kUpdateProject{"update_project", R"sql(
    WITH old AS (SELECT )sql" PROJECT_SNAPSHOT("p") R"sql( AS s FROM projects p WHERE p.id = $2),
    upd AS (
        UPDATE projects p SET
            name = coalesce($3, name),
            description = CASE WHEN $8::boolean THEN NULL ELSE coalesce($4, description) END,
            status = coalesce($5, status),
            wip_limits = coalesce($6::jsonb, wip_limits),
            owner_id = coalesce($7::uuid, owner_id),
            updated_at = now()
        WHERE p.id = $2
        RETURNING )sql" PROJECT_SNAPSHOT("p") R"sql( AS s)
    INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
    SELECT $1, $2, 'project', $2, 'updated', activity_changes(old.s, upd.s) FROM old, upd
    WHERE activity_changes(old.s, upd.s) <> '{}')sql"};

constexpr Statement kAddMembers{"add_members", R"sql(
    WITH m AS (
        INSERT INTO project_members (project_id, user_id)
        SELECT $2, d.id FROM (SELECT DISTINCT unnest($3::uuid[]) AS id) d
        ON CONFLICT DO NOTHING
        RETURNING user_id),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $1, $2, 'member', user_id, 'added', '{}' FROM m ORDER BY user_id),
    touched AS (UPDATE projects SET updated_at = now() WHERE id = $2 AND EXISTS (SELECT 1 FROM m))
    SELECT user_id FROM m ORDER BY user_id)sql"};

// Jira's rule: a member who leaves takes no assignment along. Each unassigned task gets its
// 'task' updated entry; the old assignee is read under the task's row lock.
constexpr Statement kRemoveMembers{"remove_members", R"sql(
    WITH m AS (
        DELETE FROM project_members WHERE project_id = $2 AND user_id = ANY($3::uuid[])
        RETURNING user_id),
    u AS (
        UPDATE tasks t SET assignee_id = NULL, updated_at = now()
        FROM (SELECT id, assignee_id FROM tasks
              WHERE project_id = $2 AND assignee_id IN (SELECT user_id FROM m)
              FOR UPDATE) o
        WHERE t.id = o.id
        RETURNING t.id, o.assignee_id AS old_assignee),
    a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $1, $2, x.entity, x.entity_id, x.action, x.changes
        FROM (SELECT 1 AS k, 'member' AS entity, user_id AS entity_id, 'removed' AS action,
                     '{}'::jsonb AS changes FROM m
              UNION ALL
              SELECT 2, 'task', id, 'updated',
                     jsonb_build_object('assignee_id', jsonb_build_array(old_assignee, NULL))
              FROM u) x
        ORDER BY x.k, x.entity_id),
    touched AS (UPDATE projects SET updated_at = now() WHERE id = $2 AND EXISTS (SELECT 1 FROM m))
    SELECT 'user' AS kind, user_id AS id FROM m
    UNION ALL
    SELECT 'task', id FROM u)sql"};

// A member who becomes the owner: the row goes without a 'member' entry (the 'project' entry's
// owner_id says it) and keeps its assignments.
constexpr Statement kDropMemberRow{"drop_member_row", R"sql(
    DELETE FROM project_members WHERE project_id = $1 AND user_id = $2)sql"};

constexpr Statement kDeleteProject{"delete_project", R"sql(
    WITH a AS (
        INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
        SELECT $1, p.id, 'project', p.id, 'deleted',
               activity_changes()sql" PROJECT_SNAPSHOT("p") R"sql(, NULL)
        FROM projects p WHERE p.id = $2)
    DELETE FROM projects WHERE id = $2)sql"};

Project project_from(const Result& r, int i) {
    Row row(r, i);
    Project p;
    p.id = row.str("id");
    p.name = row.str("name");
    p.description = row.opt("description");
    p.status = row.str("status");
    p.owner_id = row.str("owner_id");
    p.member_ids = row.str("member_ids");
    p.wip_limits = row.str("wip_limits");
    p.permissions = row.str("permissions");
    p.role = row.str("role");
    p.created_at = row.str("created_at");
    p.updated_at = row.str("updated_at");
    p.cursor_key = row.str("cursor_key");
    return p;
}

std::vector<std::string> split_ids(const std::string& csv) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < csv.size()) {
        size_t comma = csv.find(',', start);
        if (comma == std::string::npos) comma = csv.size();
        out.push_back(csv.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

}  // namespace

std::optional<Project> find_project(Db& db, const std::string& caller_id, const std::string& id) {
    Result r = db.exec(kFindProject, {caller_id, id});
    if (r.rows() == 0) return std::nullopt;
    return project_from(r, 0);
}

std::vector<Project> list_projects(Db& db, const std::string& caller_id, const ProjectFilter& f,
                                   int limit) {
    Result r =
        db.exec(kListProjects, {caller_id, f.status, f.q ? Param(like_contains(*f.q)) : Param(),
                                f.before_key, f.before_id, std::to_string(limit)});
    std::vector<Project> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) out.push_back(project_from(r, i));
    return out;
}

bool project_visible(Db& db, const std::string& project_id, const std::string& user_id) {
    return db.exec(kProjectVisible, {project_id, user_id}).scalar_bool();
}

std::optional<LockedProject> lock_project(Db& db, const std::string& caller_id,
                                          const std::string& id, bool for_delete) {
    if (db.exec(for_delete ? kLockProjectRowForDelete : kLockProjectRow, {id}).rows() == 0)
        return std::nullopt;
    Result r = db.exec(kLockedProject, {caller_id, id});
    Row row(r, 0);
    auto role = row.opt("role");
    if (!role) return std::nullopt;
    return LockedProject{*role, row.str("owner_id"), row.str("snapshot"),
                         split_ids(row.str("member_ids"))};
}

void lock_board(Db& db, const std::string& board_id) {
    db.exec(kLockBoard, {board_id});
}

std::optional<BadMember> first_bad_member(Db& db, const std::vector<std::string>& ids,
                                          const std::string& owner_id) {
    if (ids.empty()) return std::nullopt;
    Result r = db.exec(kFirstBadMember, {array_literal(ids), owner_id});
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return BadMember{static_cast<size_t>(row.i64("idx")), row.str("message")};
}

std::string insert_project(Db& db, const NewProject& p) {
    return db
        .exec(kInsertProject, {p.owner_id, p.name, p.description, p.status, p.wip_limits,
                               array_literal(p.member_ids)})
        .scalar_str();
}

void update_project(Db& db, const std::string& actor_id, const std::string& id,
                    const ProjectChanges& c) {
    db.exec(kUpdateProject, {actor_id, id, c.name, c.description, c.status, c.wip_limits,
                             c.owner_id, c.clear_description ? "true" : "false"});
}

std::vector<std::string> add_members(Db& db, const std::string& actor_id,
                                     const std::string& project_id,
                                     const std::vector<std::string>& user_ids) {
    if (user_ids.empty()) return {};
    std::vector<std::string> out;
    for (auto& v :
         db.exec(kAddMembers, {actor_id, project_id, array_literal(user_ids)}).single_column())
        out.push_back(*v);
    return out;
}

RemovedMembers remove_members(Db& db, const std::string& actor_id, const std::string& project_id,
                              const std::vector<std::string>& user_ids) {
    RemovedMembers out;
    if (user_ids.empty()) return out;
    Result r = db.exec(kRemoveMembers, {actor_id, project_id, array_literal(user_ids)});
    for (int i = 0; i < r.rows(); ++i) {
        Row row(r, i);
        (row.str("kind") == "user" ? out.user_ids : out.task_ids).push_back(row.str("id"));
    }
    return out;
}

void drop_member_row(Db& db, const std::string& project_id, const std::string& user_id) {
    db.exec(kDropMemberRow, {project_id, user_id});
}

void delete_project(Db& db, const std::string& actor_id, const std::string& id) {
    db.exec(kDeleteProject, {actor_id, id});
}

}  // namespace db
