// EventFeed: the thread that LISTENs on rostrum_events with its own connection and hands every
// event to the daemon. NOTIFY drops what is sent while the connection is away, so after each
// reconnection it reads the events table from a little before the last seq it saw; the
// receiver drops duplicates by seq (see Hub), which makes the catch-up overlap harmless.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "db/events.h"
#include "db/pg.h"

namespace live {

// Parses a NOTIFY payload {seq, user_id, event, data}; false when it is not one.
bool parse_event_payload(const std::string& payload, db::StoredEvent& out);

class EventFeed {
  public:
    using Deliver = std::function<void(std::vector<db::StoredEvent>)>;
    // deliver runs on the feed's thread: it must hand the events over (post), not block.
    EventFeed(db::DbSettings settings, Deliver deliver, std::function<void()> on_catch_up);
    ~EventFeed();
    EventFeed(const EventFeed&) = delete;
    EventFeed& operator=(const EventFeed&) = delete;

    // The database answered recently: /readyz.
    bool healthy() const { return healthy_.load(); }

  private:
    void run();
    void catch_up(db::Db& db, int64_t& last_seq);

    db::DbSettings settings_;
    Deliver deliver_;
    std::function<void()> on_catch_up_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> healthy_{false};
    std::thread thread_;  // last
};

}  // namespace live
