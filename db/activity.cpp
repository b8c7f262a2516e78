// Appending to the activity log.
#include "db/activity.h"

namespace db {
namespace {

constexpr Statement kRecordActivity{"record_activity", R"sql(
    INSERT INTO activity (actor_id, project_id, entity, entity_id, action, changes)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb))sql"};

}  // namespace

void record_activity(Db& db, const ActivityEntry& e) {
    db.exec(kRecordActivity,
            {e.actor_id, e.project_id, e.entity, e.entity_id, e.action, e.changes_json});
}

}  // namespace db
