// /ws/events (live/events_session.h): subscribing, and replaying ?since= from the events table
// on the database thread while live events are held back.
#include "live/events_session.h"

#include <iterator>
#include <unordered_set>

#include "core/json.h"

namespace live {
namespace {

constexpr int kReplayPage = 1000;
constexpr int kReplayPages = 10;  // ?since= replays at most this many pages

}  // namespace

void EventsSession::on_open() {
    srv_.metrics().open_event_sockets.fetch_add(1);
    srv_.subscribe(who().user_id, std::static_pointer_cast<EventsSession>(shared_from_this()));
    if (!since_) return;
    replaying_ = true;
    auto self = std::static_pointer_cast<EventsSession>(shared_from_this());
    srv_.db().post([self, user = who().user_id, since = *since_](db::Db& db) {
        std::vector<db::StoredEvent> all;
        bool ok = true;
        try {
            int64_t from = since;
            for (int page = 0; page < kReplayPages; ++page) {
                auto rows = db::user_events_since(db, user, from, kReplayPage);
                if (rows.empty()) break;
                from = rows.back().seq;
                bool more = rows.size() == static_cast<size_t>(kReplayPage);
                std::move(rows.begin(), rows.end(), std::back_inserter(all));
                if (!more) break;
            }
        } catch (const std::exception&) {
            ok = false;
        }
        self->srv_.on_io([self, all = std::move(all), ok] { self->replayed(all, ok); });
    });
}

std::string event_message(int64_t seq, const std::string& event, const std::string& data_json) {
    core::JsonWriter w;
    w.begin_object().field("seq", seq).field("event", event).key("data").raw(data_json);
    w.end_object();
    return w.take();
}

void EventsSession::replayed(const std::vector<db::StoredEvent>& events, bool ok) {
    replaying_ = false;
    if (!ok) return close(websocket::close_code::try_again_later, "events could not be replayed");
    std::unordered_set<int64_t> sent;
    for (const auto& e : events) {
        deliver_one(event_message(e.seq, e.event, e.data_json));
        sent.insert(e.seq);
    }
    for (auto& [seq, text] : held_)
        if (!sent.count(seq)) deliver_one(text);
    held_.clear();
}

}  // namespace live
