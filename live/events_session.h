// /ws/events: the caller's events as they happen (forwarded by Server::deliver), and with
// ?since=<seq> the stored ones it missed first, in order, without duplicates.
//
// The replay is paced by the socket: a page of stored events is read on the database thread,
// sent as the send queue drains (never more than half of live.send_queue_bytes queued), and
// the next page is read when this one is out, so any number of stored events reaches a client
// that reads them. When events after `since` were already pruned (live.events_keep_s), the
// replay begins with {"event": "replay.truncated", "data": {"since", "first_seq"}} instead
// of a silent gap.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "db/events.h"
#include "live/server.h"
#include "live/ws_session.h"

namespace live {

// {"seq": N, "event": "...", "data": {...}}: one event as a socket receives it.
std::string event_message(int64_t seq, const std::string& event, const std::string& data_json);
// {"event": "replay.truncated", "data": {"since": S, "first_seq": F}}: events after `since`
// and before `first_seq` are no longer stored (no "seq": it is not an event to resume from).
std::string truncated_message(int64_t since, int64_t first_seq);

class EventsSession : public WsSession {
  public:
    EventsSession(Server& srv, Local::socket sock, Identity who, std::optional<int64_t> since)
        : WsSession(srv, std::move(sock), std::move(who)), since_(since) {}

    void push(int64_t seq, const std::string& text) {
        if (gone()) return;
        if (replaying_) {
            // Held events are stored too: past the bound they are dropped and the replay
            // reads the table once more at its end instead.
            if (held_.size() >= kMaxHeld) {
                held_.clear();
                held_dropped_ = true;
            }
            if (!held_dropped_) held_.emplace_back(seq, text);
            return;
        }
        deliver_one(text);
    }

  protected:
    void on_open() override;
    void on_message(bool, std::string_view, Clock::time_point) override {}  // nothing to say
    void on_sent() override;

  private:
    void deliver_one(const std::string& text) {
        send(text);
        srv_.metrics().events_delivered.fetch_add(1);
    }
    void fetch();
    void fetched(std::vector<db::StoredEvent> rows, bool ok, std::optional<int64_t> first_kept);
    void feed();
    void end_replay();

    static constexpr size_t kMaxHeld = 4096;

    std::optional<int64_t> since_;
    bool held_dropped_ = false;  // live events were dropped during this round of the replay
    bool replaying_ = false;
    bool fetching_ = false;                 // a page is being read
    bool more_ = false;                     // the last page was full: another may follow
    bool first_page_ = true;                // the truncation check goes with it
    int64_t replayed_to_ = 0;               // the last seq read from the table
    std::deque<db::StoredEvent> page_;      // read, not yet sent
    std::unordered_set<int64_t> replayed_;  // sent by the replay (dedupes held_)
    std::vector<std::pair<int64_t, std::string>> held_;  // live events during the replay
};

}  // namespace live
