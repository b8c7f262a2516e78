// Events for the realtime channel: stored with a sequence number, then NOTIFY rostrum_events
// (delivered at commit) with a small JSON payload carrying the user id, so that a listener
// forwards it to that user's sockets and a reconnecting client can catch up from the table.
#pragma once

#include <string>

#include "db/pg.h"

namespace db {

// data_json must be a JSON object (small: NOTIFY payloads stay under 8000 bytes).
void publish_event(Db& db, const std::string& user_id, const std::string& event,
                   const std::string& data_json);

}  // namespace db
