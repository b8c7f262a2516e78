// /ws/events: the caller's events as they happen (forwarded by Server::deliver), and with
// ?since=<seq> the stored ones it missed first, in order, without duplicates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/events.h"
#include "live/server.h"
#include "live/ws_session.h"

namespace live {

// {"seq": N, "event": "...", "data": {...}}: one event as a socket receives it.
std::string event_message(int64_t seq, const std::string& event, const std::string& data_json);

class EventsSession : public WsSession {
  public:
    EventsSession(Server& srv, Local::socket sock, Identity who, std::optional<int64_t> since)
        : WsSession(srv, std::move(sock), std::move(who)), since_(since) {}

    void push(int64_t seq, const std::string& text) {
        if (gone()) return;
        if (replaying_) {
            held_.emplace_back(seq, text);
            return;
        }
        deliver_one(text);
    }

  protected:
    void on_open() override;
    void on_message(bool, std::string_view, Clock::time_point) override {}  // nothing to say

  private:
    void deliver_one(const std::string& text) {
        send(text);
        srv_.metrics().events_delivered.fetch_add(1);
    }
    void replayed(const std::vector<db::StoredEvent>& events, bool ok);

    std::optional<int64_t> since_;
    bool replaying_ = false;
    std::vector<std::pair<int64_t, std::string>> held_;  // live events during the replay
};

}  // namespace live
