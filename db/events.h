// Events for the realtime channel: stored with a sequence number, then NOTIFY rostrum_events
// (delivered at commit) with a small JSON payload carrying the user id, so that a listener
// forwards it to that user's sockets and a reconnecting client can catch up from the table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

// data_json must be a JSON object (small: NOTIFY payloads stay under 8000 bytes).
void publish_event(Db& db, const std::string& user_id, const std::string& event,
                   const std::string& data_json);

struct StoredEvent {
    int64_t seq = 0;
    std::string user_id;
    std::string event;
    std::string data_json;
};

// A user's events after `after_seq`, oldest first, at most `limit` (a reconnecting client's
// ?since=). Owner-scoped: another user's events never come back.
std::vector<StoredEvent> user_events_since(Db& db, const std::string& user_id, int64_t after_seq,
                                           int limit);
// Everyone's events after `after_seq`, oldest first: the live daemon catching up after its
// listening connection was away.
std::vector<StoredEvent> events_since(Db& db, int64_t after_seq, int limit);
// The highest seq stored (0 when none): where a starting daemon begins.
int64_t last_event_seq(Db& db);
// Deletes events older than max_age_s; returns how many.
int64_t prune_events(Db& db, int max_age_s);

}  // namespace db
