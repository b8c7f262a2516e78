// Storing and announcing events.
#include "db/events.h"

namespace db {
namespace {

constexpr Statement kPublishEvent{"publish_event", R"sql(
    WITH e AS (
        INSERT INTO events (user_id, event, data) VALUES ($1, $2, $3::jsonb)
        RETURNING seq, user_id, event, data)
    SELECT pg_notify('rostrum_events',
                     json_build_object('seq', seq, 'user_id', user_id, 'event', event,
                                       'data', data)::text)
    FROM e)sql"};

}  // namespace

void publish_event(Db& db, const std::string& user_id, const std::string& event,
                   const std::string& data_json) {
    db.exec(kPublishEvent, {user_id, event, data_json});
}

}  // namespace db
