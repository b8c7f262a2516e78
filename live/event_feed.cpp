// LISTEN rostrum_events and catching up from the events table.
#include "live/event_feed.h"

#include <chrono>

#include "core/json.h"
#include "core/log.h"
#include "db/listen.h"

namespace live {
namespace {

// How far before the last seen seq a catch-up starts: seqs are assigned at INSERT but
// delivered at COMMIT, so a lower seq can commit after a higher one.
constexpr int64_t kRewind = 1000;
constexpr int kPage = 1000;

}  // namespace

bool parse_event_payload(const std::string& payload, db::StoredEvent& out) {
    core::JsonPtr root(cJSON_ParseWithLength(payload.data(), payload.size()));
    if (!root || !cJSON_IsObject(root.get())) return false;
    const cJSON* seq = cJSON_GetObjectItemCaseSensitive(root.get(), "seq");
    const cJSON* user = cJSON_GetObjectItemCaseSensitive(root.get(), "user_id");
    const cJSON* event = cJSON_GetObjectItemCaseSensitive(root.get(), "event");
    const cJSON* data = cJSON_GetObjectItemCaseSensitive(root.get(), "data");
    if (!cJSON_IsNumber(seq) || !cJSON_IsString(user) || !cJSON_IsString(event) || !data)
        return false;
    core::JsonTextPtr text(cJSON_PrintUnformatted(data));
    if (!text) return false;
    out = {static_cast<int64_t>(seq->valuedouble), user->valuestring, event->valuestring,
           text.get()};
    return true;
}

EventFeed::EventFeed(db::DbSettings settings, Deliver deliver, std::function<void()> on_catch_up)
    : settings_(std::move(settings)),
      deliver_(std::move(deliver)),
      on_catch_up_(std::move(on_catch_up)),
      thread_([this] { run(); }) {}

EventFeed::~EventFeed() {
    stopping_ = true;
    thread_.join();
}

void EventFeed::catch_up(db::Db& db, int64_t& last_seq) {
    int64_t from = std::max<int64_t>(0, last_seq - kRewind);
    for (;;) {
        std::vector<db::StoredEvent> page = db::events_since(db, from, kPage);
        if (page.empty()) break;
        from = page.back().seq;
        last_seq = std::max(last_seq, from);
        bool more = page.size() == static_cast<size_t>(kPage);
        deliver_(std::move(page));
        if (!more) break;
    }
}

void EventFeed::run() {
    db::Listener listener(settings_, {"rostrum_events"});
    db::Db db(settings_);
    int64_t last_seq = -1;  // unknown until the first connection
    bool behind = false;    // a (re)connection happened and the catch-up has not succeeded
    auto next_ping = std::chrono::steady_clock::now();
    while (!stopping_.load()) {
        std::vector<db::Notification> notes = listener.wait(250);
        if (listener.reconnected()) behind = true;
        try {
            if (behind) {
                // Before this batch: what NOTIFY lost while away comes first, in seq order
                // (the batch's own events are in the table too and are dropped as duplicates).
                if (last_seq < 0) {
                    last_seq = db::last_event_seq(db);  // the start: nothing to replay
                } else {
                    catch_up(db, last_seq);
                    if (on_catch_up_) on_catch_up_();
                    core::log_info("events: listening again; caught up to seq " +
                                   std::to_string(last_seq));
                }
                behind = false;
                healthy_ = true;
            }
        } catch (const std::exception& e) {
            // The batch is stored as well: the next catch-up delivers it, after what came before.
            healthy_ = false;
            core::log_warn(std::string("events: catching up: ") + e.what());
            continue;
        }
        std::vector<db::StoredEvent> events;
        for (const auto& n : notes) {
            db::StoredEvent e;
            if (!parse_event_payload(n.payload, e)) continue;
            last_seq = std::max(last_seq, e.seq);
            events.push_back(std::move(e));
        }
        if (!events.empty()) deliver_(std::move(events));
        try {
            if (std::chrono::steady_clock::now() >= next_ping) {
                healthy_ = db.ping();
                next_ping = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            }
        } catch (const std::exception& e) {
            healthy_ = false;  // retried on the next turn; the listener reconnects by itself
            core::log_warn(std::string("events: ") + e.what());
        }
    }
}

}  // namespace live
