// The live daemon's networking: ONE I/O thread (a Boost.Asio io_context) owns every socket,
// the per-user registry and the event fan-out. Nothing slow runs on it: PostgreSQL queries go
// to a database thread, audio goes to decoder threads (lanes), and their results are posted
// back. Boost.Beast does the HTTP parsing, the RFC 6455 handshake, framing, masking, close
// codes for bad frames (1002) and invalid UTF-8 (1007), and the idle timeout with pings; our
// code decides what to accept and what to answer, and counts message sizes (1009).
//
//   server.h/.cpp            this class: acceptor, socket slots, lanes, event fan-out, shutdown
//   http_connection.h/.cpp   /readyz, /metrics, and the checks before an upgrade
//   ws_session.h/.cpp        one WebSocket: read loop, bounded send queue, close handshake
//   transcribe_session.h/.cpp  /ws/transcribe (vosk-server's protocol)
//   events_session.h/.cpp    /ws/events (live events, ?since= replay)
//   lane.h/.cpp              decoder threads' state; task_thread.h runs them
//
// Close codes (also in the README, "Realtime"):
//   1000 normal (after eof's final result, and {"session_id"} when saving)
//   1001 the daemon is shutting down
//   1002 a conversation out of order: a config after audio, anything after eof
//   1003 data we cannot take: text where audio was expected, an odd PCM byte count, a
//        sample_rate outside 8000..48000, phrase_list words the dictionary lacks
//   1007 a control message that is not JSON (Beast also uses it for invalid UTF-8)
//   1008 a slow consumer (send queue beyond live.send_queue_bytes), a stream longer than
//        live.max_stream_s, a stream more than live.max_ahead_s ahead of real time
//   1009 a message larger than live.max_message_bytes
//   1011 a decoder or storage failure: a fixed reason and "(request <id>)", the detail in
//        the log under nginx's request id (never libc's or libpq's text in a reason)
//   1013 the ?since= replay could not be read (the database is away; retry)
//   (no close) a ?since= older than the stored events: {"event": "replay.truncated", ...}
//        comes first (live/events_session.h)
//   4001 the access token expired; 4003 the user was deactivated or deleted; 4004 the
//        token was revoked (password or role change)
#pragma once

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/tokens.h"
#include "db/events.h"
#include "db/pg.h"
#include "live/event_feed.h"
#include "live/lane.h"
#include "live/metrics.h"
#include "live/task_thread.h"
#include "live/ws_session.h"

namespace live {

class EventsSession;

// The daemon's state on the I/O thread.
class Server {
  public:
    Server(const core::Config& cfg, net::io_context& ioc);

    void start();
    net::io_context& ioc() { return ioc_; }
    const core::Config& cfg() const { return cfg_; }
    const core::TokenSettings& tokens() const { return tokens_; }
    const std::vector<std::string>& origins() const { return origins_; }
    Metrics& metrics() { return metrics_; }
    TaskThread<db::Db>& db() { return *db_; }
    bool stopping() const { return stopping_; }
    bool ready() const { return feed_ && feed_->healthy(); }

    // Per-user socket slots, taken before the upgrade, released when the socket is gone.
    bool reserve_slot(const std::string& user_id);
    void release_slot(const std::string& user_id);
    // /ws/transcribe sockets, at most live.max_streams (taken before the upgrade: 503 beyond).
    bool reserve_stream();
    void release_stream() { --open_streams_; }

    void add(const std::shared_ptr<WsSession>& s);
    void remove(const WsSession& s);
    void subscribe(const std::string& user_id, std::weak_ptr<EventsSession> s);

    // Decoder lanes: the least loaded one takes a new stream.
    size_t pick_lane();
    void release_lane(size_t i) { --lane_streams_[i]; }
    TaskThread<Lane>& lane(size_t i) { return *lanes_[i]; }

    // Saves in flight (lane → database): shutdown waits for them.
    void save_started() { ++pending_saves_; }
    void save_done() { --pending_saves_; }

    // Runs a task on the I/O thread (from any thread).
    template <class F>
    void on_io(F f) {
        net::post(ioc_, std::move(f));
    }

    void stop_lanes_and_db();

  private:
    void accept_next();
    void deliver(std::vector<db::StoredEvent> events);
    void schedule_recheck();
    void recheck();
    void schedule_prune();
    void shutdown(int sig);
    void wait_for_drain(Clock::time_point deadline);

    const core::Config& cfg_;
    net::io_context& ioc_;
    core::TokenSettings tokens_;
    std::vector<std::string> origins_;
    Metrics metrics_;
    Local::acceptor acceptor_;
    net::signal_set signals_;
    net::steady_timer recheck_timer_;
    net::steady_timer prune_timer_;
    net::steady_timer drain_timer_;
    bool stopping_ = false;
    uint64_t next_id_ = 1;
    std::unordered_map<uint64_t, std::weak_ptr<WsSession>> sessions_;
    std::unordered_map<std::string, int> slots_;
    int open_streams_ = 0;
    std::unordered_map<std::string, std::vector<std::weak_ptr<EventsSession>>> subscribers_;
    std::set<int64_t> seen_;
    int pending_saves_ = 0;
    std::vector<int> lane_streams_;
    std::unique_ptr<TaskThread<db::Db>> db_;
    std::vector<std::unique_ptr<TaskThread<Lane>>> lanes_;
    std::unique_ptr<EventFeed> feed_;

    friend class WsSession;
};

}  // namespace live
