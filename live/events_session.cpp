// /ws/events (live/events_session.h): subscribing, and replaying ?since= from the events table
// page by page as the socket takes it, while live events are held back.
#include "live/events_session.h"

#include "core/json.h"
#include "core/log.h"

namespace live {
namespace {

constexpr int kReplayPage = 500;

// The oldest stored event, when it is newer than since + 1 and the user existed before it:
// events of theirs after `since` may have been pruned. (A user created after the oldest kept
// event lost nothing to pruning.)
constexpr db::Statement kReplayTruncated{"live_replay_truncated", R"sql(
    SELECT e.seq FROM (SELECT seq, at FROM events ORDER BY seq LIMIT 1) e
    JOIN users u ON u.id = $1
    WHERE $2::bigint + 1 < e.seq AND u.created_at < e.at)sql"};

}  // namespace

std::string event_message(int64_t seq, const std::string& event, const std::string& data_json) {
    core::JsonWriter w;
    w.begin_object().field("seq", seq).field("event", event).key("data").raw(data_json);
    w.end_object();
    return w.take();
}

std::string truncated_message(int64_t since, int64_t first_seq) {
    core::JsonWriter w;
    w.begin_object().field("event", "replay.truncated").key("data").begin_object();
    w.field("since", since).field("first_seq", first_seq).end_object().end_object();
    return w.take();
}

void EventsSession::on_open() {
    srv_.metrics().open_event_sockets.fetch_add(1);
    srv_.subscribe(who().user_id, std::static_pointer_cast<EventsSession>(shared_from_this()));
    if (!since_) return;
    replaying_ = true;
    replayed_to_ = *since_;
    fetch();
}

void EventsSession::fetch() {
    fetching_ = true;
    auto self = std::static_pointer_cast<EventsSession>(shared_from_this());
    srv_.db().post([self, user = who().user_id, from = replayed_to_, since = *since_,
                    first = first_page_, rid = who().request_id](db::Db& db) {
        std::vector<db::StoredEvent> rows;
        std::optional<int64_t> first_kept;
        bool ok = true;
        try {
            if (first) {
                db::Result r = db.exec(kReplayTruncated, {user, std::to_string(since)});
                if (r.rows() > 0) first_kept = r.scalar_i64();
            }
            rows = db::user_events_since(db, user, from, kReplayPage);
        } catch (const std::exception& e) {
            core::log_warn("live: replaying events (request " + rid + "): " + e.what());
            ok = false;
        }
        self->srv_.on_io([self, rows = std::move(rows), ok, first_kept]() mutable {
            self->fetched(std::move(rows), ok, first_kept);
        });
    });
}

void EventsSession::fetched(std::vector<db::StoredEvent> rows, bool ok,
                            std::optional<int64_t> first_kept) {
    fetching_ = false;
    if (gone() || closing_) return;
    if (!ok) {
        replaying_ = false;
        return close(websocket::close_code::try_again_later, "events could not be replayed");
    }
    if (first_page_ && first_kept) {
        srv_.metrics().replays_truncated.fetch_add(1);
        send(truncated_message(*since_, *first_kept));
    }
    first_page_ = false;
    more_ = rows.size() == static_cast<size_t>(kReplayPage);
    if (!rows.empty()) replayed_to_ = rows.back().seq;
    for (auto& r : rows) page_.push_back(std::move(r));
    feed();
}

// Sends from the page while the queue has room; the rest goes from on_sent().
void EventsSession::feed() {
    const size_t budget = static_cast<size_t>(srv_.cfg().live_send_queue_bytes) / 2;
    while (!page_.empty() && !gone() && !closing_) {
        std::string text =
            event_message(page_.front().seq, page_.front().event, page_.front().data_json);
        if (queued_bytes() > 0 && queued_bytes() + text.size() > budget) return;
        replayed_.insert(page_.front().seq);
        page_.pop_front();
        deliver_one(text);
    }
    if (gone() || closing_ || !page_.empty() || fetching_) return;
    if (more_) return fetch();
    if (held_dropped_) {
        held_dropped_ = false;  // what was dropped is in the table: one more round reads it
        return fetch();
    }
    end_replay();
}

void EventsSession::on_sent() {
    if (replaying_ && !fetching_) feed();
}

void EventsSession::end_replay() {
    replaying_ = false;
    for (auto& [seq, text] : held_)
        if (!replayed_.count(seq)) deliver_one(text);
    held_.clear();
    replayed_.clear();
}

}  // namespace live
