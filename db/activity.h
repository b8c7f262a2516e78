// The activity log's writer: one entry per change of a project, a member or a task, in the
// caller's transaction (so a rolled-back change leaves no entry). The database links each
// entry into its hash chain (sql/migrations/0005_tracker.sql, activity_link); this side only
// says what happened. Entries are never changed: the app role may not UPDATE or DELETE them.
//
// A statement that changes a row can also write its entry itself, in the same SQL (a CTE
// INSERT INTO activity ... activity_changes(to_jsonb(old), to_jsonb(new))): that is the way
// to go when the changes are only known inside the statement.
#pragma once

#include <optional>
#include <string>

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

}  // namespace db
