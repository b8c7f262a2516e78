// Appending to the activity log, reading it, and verifying its hash chains.
#include "db/activity.h"

namespace db {
namespace {

constexpr Statement kRecordActivity{"record_activity", R"sql(
    INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb))sql"};

// May $2 read project $1's entries? A role in it (project_role), or an admin asking for a
// deleted project's entries (the log outlives the project: project_role is NULL then).
constexpr Statement kActivityProjectVisible{"activity_project_visible", R"sql(
    SELECT project_role($1, $2) IS NOT NULL
        OR (EXISTS (SELECT 1 FROM users WHERE id = $2 AND role = 'admin')
            AND EXISTS (SELECT 1 FROM activity WHERE project_id = $1)) AS visible)sql",
                                            kIdempotent};

// Access is the WHERE's first condition: a project's entries for whoever has a role in it
// (the projects are read once, into a hashed set, rather than project_role per entry), every
// project entry for an admin (a deleted project's too), and a personal task's entries for
// the caller as their actor, or as the creator of the task the system (actor NULL) changed.
// Admins do not read others' personal entries: a personal task is its creator's alone
// (task_visible), and its entries carry its content.
// Filters are fixed fragments with NULL meaning "any"; newest first, keyset on seq.
constexpr Statement kListActivity{"list_activity", R"sql(
    SELECT a.seq::text AS seq, a.id, api_time(a.at) AS at, a.actor_id, a.project_id, a.entity,
           a.entity_id, a.action, a.changes::text AS changes
    FROM activity a
    WHERE CASE WHEN a.project_id IS NULL THEN
                   a.actor_id = $1
                   OR (a.actor_id IS NULL AND a.entity = 'task'
                       AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = a.entity_id
                                   AND t.project_id IS NULL AND t.created_by = $1))
               ELSE EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin')
                    OR a.project_id IN (SELECT p.id FROM projects p
                                        WHERE project_role(p.id, $1) IS NOT NULL)
          END
      AND ($2::uuid IS NULL OR a.project_id = $2)
      AND ($3::text IS NULL OR a.entity = $3)
      AND ($4::uuid IS NULL OR a.entity_id = $4)
      AND ($5::uuid IS NULL OR a.actor_id = $5)
      AND ($6::timestamptz IS NULL OR a.at >= $6)
      AND ($7::timestamptz IS NULL OR a.at < $7)
      AND ($8::bigint IS NULL OR a.seq < $8)
    ORDER BY a.seq DESC
    LIMIT $9)sql",
                                  kIdempotent};

// One pass over the log in (chain, chain_seq) order (the activity_chain_key index gives it):
// an entry is bad when its stored hash is not activity_hash() of its content (edited), when it
// is in a chain its content does not name (moved), or when its prev_hash and chain_seq do not
// continue its predecessor's (a deleted or reordered entry before it). A chain's head
// (activity_chain_heads(): activity_link's record of the last entry it linked) that does not
// match the chain's last remaining entry means its tail was deleted: that last remaining entry
// is reported. An entry whose chain has no head was never linked by activity_link at all.
// first_bad_id: the first failing entry by seq (NULL when a whole chain is gone: nothing of it
// is left to name).
constexpr Statement kVerifyActivity{"verify_activity", R"sql(
    WITH w AS (
        SELECT a.seq, a.id, a.chain, a.chain_seq, a.hash,
               a.hash = activity_hash(a)
                   AND a.chain = coalesce(a.project_id, a.actor_id,
                                          '00000000-0000-0000-0000-000000000000'::uuid)
                   AND a.prev_hash = coalesce(lag(a.hash) OVER c, '\x'::bytea)
                   AND a.chain_seq = coalesce(lag(a.chain_seq) OVER c, 0) + 1 AS sound,
               lead(a.chain_seq) OVER c IS NULL AS is_last
        FROM activity a
        WINDOW c AS (PARTITION BY a.chain ORDER BY a.chain_seq)
    ),
    heads AS (SELECT * FROM activity_chain_heads()),
    bad AS (
        SELECT seq, id FROM w WHERE NOT sound
        UNION ALL
        SELECT l.seq, l.id
        FROM heads h LEFT JOIN w l ON l.chain = h.chain AND l.is_last
        WHERE l.seq IS NULL OR l.chain_seq <> h.last_seq OR l.hash <> h.last_hash
        UNION ALL
        SELECT w.seq, w.id FROM w
        WHERE w.is_last AND NOT EXISTS (SELECT 1 FROM heads h WHERE h.chain = w.chain)
    )
    SELECT (SELECT count(*) FROM w) AS checked,
           NOT EXISTS (SELECT 1 FROM bad) AS ok,
           (SELECT id FROM bad WHERE seq IS NOT NULL ORDER BY seq LIMIT 1) AS first_bad_id)sql",
                                    kIdempotent};

Activity activity_from(const Result& r, int i) {
    Row row(r, i);
    return {row.str("seq"),       row.str("id"),         row.str("at"),
            row.opt("actor_id"),  row.opt("project_id"), row.str("entity"),
            row.str("entity_id"), row.str("action"),     row.str("changes")};
}

}  // namespace

void record_activity(Db& db, const ActivityEntry& e) {
    db.exec(kRecordActivity,
            {e.actor_id, e.project_id, e.entity, e.entity_id, e.action, e.changes_json});
}

std::optional<std::vector<Activity>> list_activity(Db& db, const std::string& user_id,
                                                   const ActivityFilter& f, int limit) {
    if (f.project_id &&
        !Row(db.exec(kActivityProjectVisible, {*f.project_id, user_id}), 0).boolean("visible"))
        return std::nullopt;
    Result r = db.exec(kListActivity, {user_id, f.project_id, f.entity, f.entity_id, f.actor_id,
                                       f.from, f.to, f.before_seq, std::to_string(limit)});
    std::vector<Activity> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(activity_from(r, i));
    return out;
}

ActivityCheck verify_activity(Db& db) {
    Result r = db.exec(kVerifyActivity);
    Row row(r, 0);
    return {row.boolean("ok"), row.i64("checked"), row.opt("first_bad_id")};
}

}  // namespace db
