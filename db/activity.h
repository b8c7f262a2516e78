// The activity log's writer: one entry per change of a project, a member or a task, in the
// caller's transaction (so a rolled-back change leaves no entry). The database links each
// entry into its hash chain (sql/migrations/0005_tracker.sql, activity_link); this side only
// says what happened. Entries are never changed: the app role may not UPDATE or DELETE them.
//
// A statement that changes a row can also write its entry itself, in the same SQL (a CTE
// INSERT INTO activity ... activity_changes(to_jsonb(old), to_jsonb(new))): that is the way
// to go when the changes are only known inside the statement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct ActivityEntry {
    std::optional<std::string> actor_id;    // nullopt: the system (the worker)
    std::optional<std::string> project_id;  // nullopt: a personal task
    std::string entity;                     // project | task | member
    std::string entity_id;
    std::string action;               // created | updated | moved | deleted | added | removed
    std::string changes_json = "{}";  // {field: [old, new]}
};

void record_activity(Db& db, const ActivityEntry& e);

// A stored entry as GET /activity shows it.
struct Activity {
    std::string seq;  // the global order: the keyset cursor's key
    std::string id;
    std::string at;  // RFC 3339, UTC
    std::optional<std::string> actor_id, project_id;
    std::string entity, entity_id, action;
    std::string changes;  // a JSON object, as stored
};

struct ActivityFilter {
    std::optional<std::string> project_id, entity, entity_id, actor_id;
    std::optional<std::string> from, to;    // RFC 3339: at >= from, at < to
    std::optional<std::string> before_seq;  // the cursor
};

// The entries `user_id` may read, newest first (up to `limit`): those of the projects it has a
// role in (project_role), every project's for an admin (deleted projects' included), and its
// personal-task entries (its own, and the system's on its personal tasks). nullopt when
// f.project_id names a project the caller cannot see (404; for an admin, one that never
// existed in the log either).
std::optional<std::vector<Activity>> list_activity(Db& db, const std::string& user_id,
                                                   const ActivityFilter& f, int limit);

// GET /activity/verify: every chain walked in chain_seq order, each entry's hash recomputed and
// its prev_hash compared with its predecessor's hash, each chain's head with its last entry.
struct ActivityCheck {
    bool ok = true;
    int64_t checked = 0;                      // entries examined (all of them)
    std::optional<std::string> first_bad_id;  // the first failing entry by seq
};
ActivityCheck verify_activity(Db& db);

}  // namespace db
