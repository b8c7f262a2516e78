// GET /api/v1/events: the caller's stored events without a WebSocket (API.md "WebSocket": shared
// hosts, proxies that drop upgrades), as a page, a long poll (?wait_s=) or Server-Sent Events
// (Accept: text/event-stream). The same rows and seq as /ws/events replays, so a client can
// switch between them at any seq.
//
// A waiting request holds its FastCGI worker, so at most events.max_waiting of the pool's
// workers wait at once; a request beyond that answers at once (a long poll: 429 with
// Retry-After; Server-Sent Events: the stream ends with a longer `retry:`, which EventSource
// obeys, since it gives up for good on any status but 200). Responses are whole, not streamed
// (the pool buffers a response): an event stream ends after its first batch of events or after
// wait_s, and EventSource reconnects with Last-Event-ID, which continues where it ended.
#include <algorithm>
#include <chrono>
#include <optional>

#include "core/config.h"
#include "core/json.h"
#include "core/problem.h"
#include "core/query.h"
#include "db/events.h"
#include "db/listen.h"
#include "db/settings.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

constexpr const char* kRouteName = "events_list";
// How long an event stream waits when the client names no wait_s: the longest allowed.
constexpr int kMaxWaitS = 25;
// EventSource's reconnection delay (ms): at once after events (the client is keeping up), and
// a few seconds when the pool had no worker to spare for waiting.
constexpr int kRetryMs = 250, kBusyRetryMs = 5000;
constexpr int kBusyRetryAfterS = 5;

// clang-format off
constexpr Field kEventFields[] = {
    {.name = "seq", .type = Type::integer, .use = kOut,
     .description = "the event's place in the caller's stream; increasing, with gaps (other users' events)"},
    {.name = "event", .type = Type::string, .use = kOut,
     .description = "session.progress, session.done, session.failed, interview.turn, project.*, task.*, note.updated"},
    {.name = "data", .type = Type::object, .use = kOut, .description = "the event's payload, as /ws/events sends it"},
    {.name = "since", .type = Type::integer, .use = kFilter, .min = 0, .max = INT64_MAX,
     .description = "only events after this seq (default 0: everything kept; an event stream "
                    "without it continues from Last-Event-ID)"},
    {.name = "wait_s", .type = Type::integer, .use = kFilter, .min = 0, .max = kMaxWaitS,
     .description = "when nothing is newer, hold the request up to this many seconds for the next "
                    "event (long poll); default 0, or 25 for an event stream"},
};
// clang-format on

struct Query {
    int64_t since = 0;
    int limit = 20;
    int wait_s = 0;
    bool stream = false;  // Accept: text/event-stream
};

bool wants_event_stream(const Request& req) {
    auto accept = req.header("accept");
    return accept && accept->find("text/event-stream") != std::string_view::npos;
}

// Last-Event-ID: the seq EventSource saw last; anything unreadable is a fresh start (a browser
// never sends one it was not given, so a bad one is a hand-made request).
std::optional<int64_t> last_event_id(const Request& req) {
    auto h = req.header("last-event-id");
    if (!h) return std::nullopt;
    auto v = core::parse_decimal(*h);
    if (!v || *v < 0) return std::nullopt;
    return v;
}

Query read_query(const Request& req) {
    Query q;
    q.stream = wants_event_stream(req);
    q.limit = read_page(req).limit;
    // Absent: an event stream continues from Last-Event-ID and waits as long as allowed.
    int64_t since_default = q.stream ? last_event_id(req).value_or(0) : 0;
    q.since = core::int_param_or_throw(req.query, "since", 0, INT64_MAX, since_default);
    q.wait_s = static_cast<int>(
        core::int_param_or_throw(req.query, "wait_s", 0, kMaxWaitS, q.stream ? kMaxWaitS : 0));
    return q;
}

// Waits for the caller's next events: LISTEN first, then the table is read (at once, after
// each reconnection, and whenever a notification names the caller), so an event stored before
// the LISTEN is not missed; the table, not the payload, is the answer.
std::vector<db::StoredEvent> wait_for_events(Ctx& ctx, const std::string& user_id, const Query& q) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(q.wait_s);
    db::Listener listener(db::db_settings(ctx.cfg, "api-events"), {"rostrum_events"});
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        bool look = left.count() <= 0;  // one last read at the deadline
        if (!look) {
            for (const db::Notification& n : listener.wait(static_cast<int>(left.count())))
                if (n.payload.find(user_id) != std::string::npos) look = true;
            if (listener.reconnected()) look = true;
        }
        if (look) {
            auto events = db::user_events_since(ctx.db, user_id, q.since, q.limit);
            if (!events.empty() || left.count() <= 0) return events;
        }
    }
}

std::string page_json(const std::vector<db::StoredEvent>& events, int64_t since) {
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const db::StoredEvent& e : events) {
        w.begin_object().field("seq", e.seq).field("event", e.event);
        w.key("data").raw(e.data_json);
        w.end_object();
    }
    w.end_array();
    w.field("next_since", events.empty() ? since : events.back().seq);
    w.end_object();
    return w.take();
}

// text/event-stream: `retry:` first, then one message per event with its seq as the id, its
// name as the event type and /ws/events' frame as the data (one line: JSON has no newlines
// outside strings, and strings escape theirs).
std::string event_stream(const std::vector<db::StoredEvent>& events, int retry_ms) {
    std::string out = "retry: " + std::to_string(retry_ms) + "\n\n";
    for (const db::StoredEvent& e : events) {
        core::JsonWriter w;
        w.begin_object().field("seq", e.seq).field("event", e.event);
        w.key("data").raw(e.data_json);
        w.end_object();
        out +=
            "id: " + std::to_string(e.seq) + "\nevent: " + e.event + "\ndata: " + w.take() + "\n\n";
    }
    return out;
}

Response answer(const Query& q, const std::vector<db::StoredEvent>& events, bool busy) {
    if (q.stream) {
        Response r = Response::text(200, "text/event-stream; charset=utf-8",
                                    event_stream(events, busy ? kBusyRetryMs : kRetryMs));
        // nginx must not hold the stream back, and nothing may cache it.
        r.header("Cache-Control", "no-store").header("X-Accel-Buffering", "no");
        return r;
    }
    return Response::json(200, page_json(events, q.since)).header("Cache-Control", "no-store");
}

}  // namespace

constexpr Resource kEvents{.schema = "Event", .fields = kEventFields};

Response events_list(Request& req, Ctx& ctx) {
    Query q = read_query(req);
    const std::string& user = req.user().id;
    auto events = db::user_events_since(ctx.db, user, q.since, q.limit);
    if (!events.empty() || q.wait_s == 0) return answer(q, events, false);
    // Nothing newer: wait, if the pool can spare this worker (CGI mode has no pool: always).
    if (ctx.board && workers_in_route(ctx, kRouteName) > ctx.cfg.events_max_waiting) {
        if (q.stream) return answer(q, events, true);
        core::ApiError e(429, "Too Many Requests",
                         "too many requests are waiting for events at once (the most allowed is " +
                             std::to_string(ctx.cfg.events_max_waiting) +
                             "); retry after a few seconds, or use /ws/events");
        e.headers.emplace_back("Retry-After", std::to_string(kBusyRetryAfterS));
        throw e;
    }
    return answer(q, wait_for_events(ctx, user, q), false);
}

}  // namespace handlers
