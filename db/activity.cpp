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

// Two passes over the log. The first, in any order, recomputes each entry's hash from its
// content (an edited entry fails) and checks that the entry is in the chain its content names
// (a moved one fails; activity_chain_key: its project's chain, or a personal task's own, or for
// entries before migration 0012 the actor's). The expression is 0005's activity_hash() spelled out
// over the columns: called with the whole row, that function builds a composite value per entry and
// costs 2.5 times as much; test_activity's intact log (ok: true) fails if the two ever differ. Its
// time in microseconds is the same integer computed in float8 and bigint instead of numeric (a
// quarter less): the whole seconds are exact in a float8 (its error, under a microsecond, never
// reaches a whole second), and the microseconds field (seconds of the minute x 10^6) is an exact
// integer. The second walks each chain in chain_seq order (the activity_chain_key index gives it)
// and checks that every prev_hash is its predecessor's hash and every chain_seq its predecessor's
// plus one (the entry after a deleted or reordered one fails). Then each chain's head
// (activity_chain_heads(): what activity_link recorded as the chain's last entry) must match the
// chain's last remaining entry, or the tail was deleted and that last remaining entry is reported;
// an entry whose chain has no head was never linked by activity_link. first_bad_id: the first
// failing entry by seq (NULL when nothing of a damaged chain is left to name).
constexpr Statement kVerifyActivity{"verify_activity", R"sql(
    WITH content AS (
        SELECT count(*) AS checked,
               min(a.seq) FILTER (
                   WHERE a.hash IS DISTINCT FROM sha256(convert_to(concat_ws('|', a.chain, a.chain_seq, a.id,
                             floor(date_part('epoch', a.at))::bigint * 1000000
                                 + date_part('microseconds', a.at)::bigint % 1000000,
                             coalesce(a.actor_id::text, '-'), coalesce(a.project_id::text, '-'),
                             a.entity, a.entity_id, a.action, a.changes::text), 'UTF8') || a.prev_hash)
                      OR a.chain <> activity_chain_key(a.seq, a.project_id, a.actor_id,
                                                       a.entity_id)) AS bad_seq
        FROM activity a
    ),
    links AS (  -- only what the checks below need: the broken links and each chain's last entry
        SELECT * FROM (
            SELECT a.seq, a.chain, a.chain_seq, a.hash,
                   a.prev_hash = coalesce(lag(a.hash) OVER c, '\x'::bytea)
                       AND a.chain_seq = coalesce(lag(a.chain_seq) OVER c, 0) + 1 AS linked,
                   lead(a.chain_seq) OVER c IS NULL AS is_last
            FROM activity a
            WINDOW c AS (PARTITION BY a.chain ORDER BY a.chain_seq)) w
        WHERE NOT linked OR is_last
    ),
    heads AS (SELECT * FROM activity_chain_heads()),
    bad AS (
        SELECT bad_seq AS seq FROM content WHERE bad_seq IS NOT NULL
        UNION ALL
        SELECT seq FROM links WHERE NOT linked
        UNION ALL
        SELECT l.seq FROM heads h LEFT JOIN links l ON l.chain = h.chain AND l.is_last
        WHERE l.seq IS NULL OR l.chain_seq <> h.last_seq OR l.hash <> h.last_hash
        UNION ALL
        SELECT l.seq FROM links l
        WHERE l.is_last AND NOT EXISTS (SELECT 1 FROM heads h WHERE h.chain = l.chain)
    )
    SELECT (SELECT checked FROM content) AS checked, NOT EXISTS (SELECT 1 FROM bad) AS ok,
           (SELECT a.id FROM activity a WHERE a.seq = (SELECT min(seq) FROM bad)) AS first_bad_id)sql",
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
