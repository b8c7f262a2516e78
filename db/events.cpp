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

constexpr Statement kUserEventsSince{"user_events_since", R"sql(
    SELECT seq, user_id, event, data::text FROM events
    WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)sql"};

constexpr Statement kEventsSince{"events_since", R"sql(
    SELECT seq, user_id, event, data::text FROM events WHERE seq > $1 ORDER BY seq LIMIT $2)sql"};

constexpr Statement kLastEventSeq{"last_event_seq", "SELECT coalesce(max(seq), 0) FROM events"};

constexpr Statement kPruneEvents{"prune_events", R"sql(
    DELETE FROM events WHERE at < now() - make_interval(secs => $1))sql"};

std::vector<StoredEvent> rows_to_events(const Result& r) {
    std::vector<StoredEvent> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.i64(i, 0), r.str(i, 1), r.str(i, 2), r.str(i, 3)});
    return out;
}

}  // namespace

std::vector<StoredEvent> user_events_since(Db& db, const std::string& user_id, int64_t after_seq,
                                           int limit) {
    return rows_to_events(
        db.exec(kUserEventsSince, {user_id, std::to_string(after_seq), std::to_string(limit)}));
}

std::vector<StoredEvent> events_since(Db& db, int64_t after_seq, int limit) {
    return rows_to_events(
        db.exec(kEventsSince, {std::to_string(after_seq), std::to_string(limit)}));
}

int64_t last_event_seq(Db& db) {
    return db.exec(kLastEventSeq).i64(0, 0);
}

int64_t prune_events(Db& db, int max_age_s) {
    return db.exec(kPruneEvents, {std::to_string(max_age_s)}).affected();
}

void publish_event(Db& db, const std::string& user_id, const std::string& event,
                   const std::string& data_json) {
    db.exec(kPublishEvent, {user_id, event, data_json});
}

}  // namespace db
