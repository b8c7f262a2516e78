// The live daemon's networking: ONE I/O thread (a Boost.Asio io_context) owns every socket,
// the per-user registry and the event fan-out. Nothing slow runs on it: PostgreSQL queries go
// to a database thread, audio goes to decoder threads (lanes), and their results are posted
// back. Boost.Beast does the HTTP parsing, the RFC 6455 handshake, framing, masking, close
// codes for bad frames (1002) and invalid UTF-8 (1007), and the idle timeout with pings; this
// file decides what to accept and what to answer, and counts message sizes (1009).
//
// Close codes chosen here (also in the README, "Realtime"):
//   1000 normal (after eof's final result, and {"session_id"} when saving)
//   1001 the daemon is shutting down
//   1002 a conversation out of order: a config after audio, anything after eof
//   1003 data we cannot take: text where audio was expected, an odd PCM byte count, a
//        sample_rate outside 8000..48000, phrase_list words the dictionary lacks
//   1007 a control message that is not JSON (Beast also uses it for invalid UTF-8)
//   1008 a slow consumer (send queue beyond live.send_queue_bytes), a stream longer than
//        live.max_stream_s
//   1009 a message larger than live.max_message_bytes
//   1011 a decoder or storage failure
//   1013 the ?since= replay could not be read (the database is away; retry)
//   4001 the access token expired; 4003 the user was deactivated or deleted; 4004 the
//        token was revoked (password or role change)
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>  // Boost 1.74's asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/json.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/tokens.h"
#include "db/events.h"
#include "db/users.h"
#include "fcgi/serve.h"
#include "live/daemon.h"
#include "live/event_feed.h"
#include "live/lane.h"
#include "live/metrics.h"
#include "live/store.h"
#include "live/task_thread.h"
#include "live/upgrade.h"

namespace live {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using Local = net::local::stream_protocol;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using Request = http::request<http::empty_body>;

constexpr auto kHeaderTimeout = std::chrono::seconds(10);
constexpr auto kCloseGrace = std::chrono::seconds(5);
constexpr auto kShutdownGrace = std::chrono::seconds(10);
constexpr size_t kSeenEvents = 16384;  // seqs remembered for dedupe
constexpr int kReplayPage = 1000;
constexpr int kReplayPages = 10;  // ?since= replays at most this many pages
constexpr int kPruneEverySeconds = 600;

struct Identity {
    std::string user_id;
    int64_t token_version = 0;
    int64_t expires_at = 0;
};

class Server;

// ---------------------------------------------------------------------------------------------
// WsSession: one accepted WebSocket. Owns the read loop and a bounded send queue.
class WsSession : public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(Server& srv, Local::socket sock, Identity who);
    virtual ~WsSession() = default;

    void start(Request req);
    // Queues a text message; a queue beyond live.send_queue_bytes closes the socket (1008).
    void send(std::string text);
    // Sends a close frame after what is queued (or at once, dropping the queue, when urgent).
    void close(uint16_t code, std::string reason, bool urgent = false);
    const Identity& who() const { return who_; }
    bool gone() const { return gone_; }
    uint64_t id() const { return id_; }

  protected:
    virtual void on_open() {}
    virtual void on_message(bool text, std::string_view data, Clock::time_point at) = 0;
    virtual void on_gone() {}
    Server& srv_;
    bool closing_ = false;

  private:
    void read_next();
    void on_read();
    void write_next();
    void issue_close();
    void finish();

    websocket::stream<Local::socket> ws_;
    Identity who_;
    uint64_t id_;
    beast::flat_buffer in_;
    std::deque<std::string> out_;
    size_t out_bytes_ = 0;
    bool writing_ = false;
    bool open_ = false;
    bool gone_ = false;
    bool close_sent_ = false;
    websocket::close_reason pending_close_;
    net::steady_timer force_close_;
};

// ---------------------------------------------------------------------------------------------
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

    void add(const std::shared_ptr<WsSession>& s);
    void remove(const WsSession& s);
    void subscribe(const std::string& user_id, std::weak_ptr<class EventsSession> s);

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
    std::unordered_map<std::string, std::vector<std::weak_ptr<EventsSession>>> subscribers_;
    std::set<int64_t> seen_;
    int pending_saves_ = 0;
    std::vector<int> lane_streams_;
    std::unique_ptr<TaskThread<db::Db>> db_;
    std::vector<std::unique_ptr<TaskThread<Lane>>> lanes_;
    std::unique_ptr<EventFeed> feed_;

    friend class WsSession;
};

// ---------------------------------------------------------------------------------------------
// /ws/events: the caller's events; ?since= replays the stored ones first.
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

// ---------------------------------------------------------------------------------------------
// /ws/transcribe: vosk-server's conversation.
class TranscribeSession : public WsSession {
  public:
    TranscribeSession(Server& srv, Local::socket sock, Identity who, std::optional<SaveTarget> save)
        : WsSession(srv, std::move(sock), std::move(who)), save_(std::move(save)) {}

  protected:
    void on_message(bool text, std::string_view data, Clock::time_point at) override;
    void on_gone() override;

  private:
    enum class State { configuring, streaming, ended };
    void on_control(std::string_view data, Clock::time_point at);
    void on_config(const cJSON* config);
    void on_audio(std::string_view data, Clock::time_point at);
    void on_eof(Clock::time_point at);
    void ensure_stream();
    void end_stream();
    void replied(const std::string& reply, const std::string& error, bool refused,
                 Clock::time_point at, bool final);
    void saved(const std::string& session_id, const std::string& error);

    std::optional<SaveTarget> save_;
    speech::StreamOptions opt_;
    State state_ = State::configuring;
    std::shared_ptr<LiveStream> stream_;
    size_t lane_ = 0;
    bool lane_taken_ = false;
    int64_t samples_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Problems and plain HTTP answers.

std::string problem_body(const core::ApiError& e) {
    core::JsonWriter w;
    w.begin_object();
    w.field("type", e.type.empty() ? std::string("about:blank") : e.type);
    w.field("title", e.title).field("status", e.status).field("detail", e.detail);
    if (!e.errors.empty()) {
        w.key("errors").begin_array();
        for (const auto& f : e.errors)
            w.begin_object().field("field", f.field).field("message", f.message).end_object();
        w.end_array();
    }
    w.end_object();
    return w.take();
}

// One plain HTTP exchange on the unix socket: /readyz, /metrics, or an upgrade request that is
// checked (and refused, or upgraded) before any WebSocket exists.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
  public:
    HttpConnection(Server& srv, Local::socket sock)
        : srv_(srv), sock_(std::move(sock)), timer_(srv.ioc()) {}

    void start() {
        parser_.header_limit(16 * 1024);
        timer_.expires_after(kHeaderTimeout);
        timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) self->sock_.close();  // a client that never finishes its headers
        });
        http::async_read(sock_, buf_, parser_, [self = shared_from_this()](error_code ec, size_t) {
            self->timer_.cancel();
            if (ec) return;
            self->route(self->parser_.release());
        });
    }

  private:
    void route(Request req);
    void upgrade(Request req, std::string_view path, const fcgi::Params& query);
    void user_checked(Request req, std::string path, core::AccessClaims claims,
                      std::optional<SaveTarget> save, std::optional<int64_t> since,
                      std::optional<db::User> user, bool db_ok);
    void answer(int status, std::string content_type, std::string body,
                std::vector<std::pair<std::string, std::string>> headers = {});
    void refuse(const core::ApiError& e) {
        srv_.metrics().upgrades_refused.fetch_add(1);
        answer(e.status, "application/problem+json", problem_body(e), e.headers);
    }

    Server& srv_;
    Local::socket sock_;
    net::steady_timer timer_;
    beast::flat_buffer buf_;
    http::request_parser<http::empty_body> parser_;
    std::shared_ptr<http::response<http::string_body>> res_;
};

void HttpConnection::answer(int status, std::string content_type, std::string body,
                            std::vector<std::pair<std::string, std::string>> headers) {
    res_ =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res_->set(http::field::content_type, content_type);
    res_->set(http::field::cache_control, "no-store");
    for (auto& [k, v] : headers) res_->set(k, v);
    res_->body() = std::move(body);
    res_->keep_alive(false);
    res_->prepare_payload();
    http::async_write(sock_, *res_, [self = shared_from_this()](error_code, size_t) {
        error_code ignored;
        self->sock_.shutdown(Local::socket::shutdown_both, ignored);
        self->sock_.close(ignored);
    });
}

void HttpConnection::route(Request req) {
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view qs = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    if (path == "/readyz" || path == "/ws/readyz") {
        if (srv_.ready()) return answer(200, "application/json", "{\"status\":\"ready\"}\n");
        return refuse(core::ApiError::unavailable("the database is not reachable"));
    }
    if (path == "/metrics" || path == "/ws/metrics")
        return answer(200, "text/plain; version=0.0.4", srv_.metrics().render());
    if (path != "/ws/events" && path != "/ws/transcribe")
        return refuse(core::ApiError::not_found());
    try {
        if (srv_.stopping()) throw core::ApiError::unavailable("the live daemon is restarting");
        if (!websocket::is_upgrade(req))
            throw core::ApiError(426, "Upgrade Required", "this is a WebSocket endpoint", {},
                                 "/problems/upgrade-required");
        fcgi::Params query = fcgi::parse_query(qs);
        upgrade(std::move(req), path, query);
    } catch (const core::ApiError& e) {
        refuse(e);
    }
}

std::optional<std::string_view> header(const Request& req, http::field f) {
    auto it = req.find(f);
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
}

// Token, origin and parameters are checked here; the user's row on the database thread.
void HttpConnection::upgrade(Request req, std::string_view path, const fcgi::Params& query) {
    check_origin(header(req, http::field::origin), header(req, http::field::host).value_or(""),
                 srv_.origins());
    std::string token = access_token(query, header(req, http::field::cookie));
    auto claims = core::verify_access_token(srv_.tokens(), token, std::time(nullptr));
    if (!claims) throw core::ApiError::unauthorized("invalid or expired access token");
    std::optional<SaveTarget> save;
    std::optional<int64_t> since;
    if (path == "/ws/events") {
        allow_params(query, {"since"});
        since = events_since(query);
    } else {
        allow_params(query, {"save", "kind", "title", "patient_id"});
        save = save_target(query);
    }
    if (!srv_.reserve_slot(claims->user_id)) {
        core::ApiError e(429, "Too Many Requests",
                         "too many open sockets for this user (live.max_sockets_per_user)", {},
                         "/problems/too-many-sockets");
        e.headers.emplace_back("Retry-After", "10");
        throw e;
    }
    srv_.db().post([self = shared_from_this(), req = std::move(req), path = std::string(path),
                    claims = *claims, save, since](db::Db& db) mutable {
        std::optional<db::User> user;
        bool ok = true;
        try {
            user = db::find_user_auth(db, claims.user_id);
        } catch (const std::exception&) {
            ok = false;
        }
        self->srv_.on_io([self, req = std::move(req), path = std::move(path), claims,
                          save = std::move(save), since, user = std::move(user), ok]() mutable {
            self->user_checked(std::move(req), std::move(path), claims, std::move(save), since,
                               std::move(user), ok);
        });
    });
}

void HttpConnection::user_checked(Request req, std::string path, core::AccessClaims claims,
                                  std::optional<SaveTarget> save, std::optional<int64_t> since,
                                  std::optional<db::User> user, bool db_ok) {
    if (!db_ok || !user || !user->is_active || user->token_version != claims.token_version) {
        srv_.release_slot(claims.user_id);
        return refuse(db_ok ? core::ApiError::unauthorized("access token revoked")
                            : core::ApiError::unavailable("the database is not reachable"));
    }
    timer_.cancel();
    Identity who{claims.user_id, claims.token_version, claims.expires_at};
    std::shared_ptr<WsSession> s;
    if (path == "/ws/events") {
        s = std::make_shared<EventsSession>(srv_, std::move(sock_), who, since);
    } else {
        if (save) {
            save->user_id = claims.user_id;
            save->audio_dir = srv_.cfg().data_dir + "/audio";
        }
        s = std::make_shared<TranscribeSession>(srv_, std::move(sock_), who, std::move(save));
    }
    s->start(std::move(req));
}

// ---------------------------------------------------------------------------------------------
// WsSession

WsSession::WsSession(Server& srv, Local::socket sock, Identity who)
    : srv_(srv),
      ws_(std::move(sock)),
      who_(std::move(who)),
      id_(srv.next_id_++),
      force_close_(srv.ioc()) {}

void WsSession::start(Request req) {
    websocket::stream_base::timeout t;
    t.handshake_timeout = kCloseGrace;
    t.idle_timeout = std::chrono::seconds(srv_.cfg().live_idle_timeout_s);
    t.keep_alive_pings = true;  // a ping at half the idle time; no pong either → closed
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "rostrum-live"); }));
    // No limit in Beast: it would fail the stream at the frame header and drop the connection
    // with the rest of the message unread, and the TCP reset that makes can reach the client
    // before the 1009 close frame (it then sees 1006, not why). read_next() counts instead.
    ws_.read_message_max(0);
    srv_.add(shared_from_this());
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
        if (ec) return self->finish();
        self->open_ = true;
        self->srv_.metrics().open_sockets.fetch_add(1);
        self->on_open();
        self->read_next();
    });
}

// Reads a message in pieces, at most one byte more than live.max_message_bytes of it, so that
// an oversize message is known without buffering it; after a close, what still comes (the
// rest of that message, anything until the client's close reply) is read and dropped.
void WsSession::read_next() {
    const size_t max = static_cast<size_t>(srv_.cfg().live_max_message_bytes);
    const size_t room = max + 1 - std::min(max, in_.size());
    ws_.async_read_some(in_, room, [self = shared_from_this()](error_code ec, size_t) {
        if (ec) return self->finish();
        self->on_read();
    });
}

void WsSession::on_read() {
    const size_t max = static_cast<size_t>(srv_.cfg().live_max_message_bytes);
    if (!closing_ && in_.size() > max) {
        close(websocket::close_code::too_big,
              "message larger than " + std::to_string(max) + " bytes");
    }
    if (closing_) {
        in_.consume(in_.size());
        return read_next();
    }
    if (!ws_.is_message_done()) return read_next();
    auto data = in_.cdata();
    on_message(ws_.got_text(), std::string_view(static_cast<const char*>(data.data()), data.size()),
               Clock::now());
    in_.consume(in_.size());
    read_next();
}

void WsSession::send(std::string text) {
    if (gone_ || closing_ || !open_) return;
    if (out_bytes_ + text.size() > static_cast<size_t>(srv_.cfg().live_send_queue_bytes)) {
        srv_.metrics().slow_consumers_closed.fetch_add(1);
        return close(websocket::close_code::policy_error, "slow consumer: send queue full", true);
    }
    out_bytes_ += text.size();
    out_.push_back(std::move(text));
    if (!writing_) write_next();
}

void WsSession::write_next() {
    if (out_.empty()) {
        writing_ = false;
        if (closing_ && !close_sent_) issue_close();
        return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(out_.front()), [self = shared_from_this()](error_code ec, size_t) {
        self->out_bytes_ -= self->out_.front().size();
        self->out_.pop_front();
        if (ec) {
            self->writing_ = false;
            return;  // the read loop sees the failure too and finishes the session
        }
        self->write_next();
    });
}

void WsSession::close(uint16_t code, std::string reason, bool urgent) {
    if (gone_ || closing_) return;
    closing_ = true;
    if (reason.size() > 120) reason.resize(120);  // a close frame's reason is at most 123 bytes
    pending_close_.code = code;
    pending_close_.reason = reason;
    if (!open_) return;
    if (urgent) {
        // Whatever is queued will not be read in time anyway; a stuck write is cut below.
        while (out_.size() > (writing_ ? 1u : 0u)) {
            out_bytes_ -= out_.back().size();
            out_.pop_back();
        }
    }
    if (!writing_) issue_close();
    force_close_.expires_after(kCloseGrace);
    force_close_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || self->gone_) return;
        error_code ignored;
        beast::get_lowest_layer(self->ws_).close(ignored);  // the peer never completed the close
    });
}

void WsSession::issue_close() {
    close_sent_ = true;
    ws_.async_close(pending_close_, [self = shared_from_this()](error_code) {});
}

void WsSession::finish() {
    if (gone_) return;
    gone_ = true;
    force_close_.cancel();
    if (open_) srv_.metrics().open_sockets.fetch_sub(1);
    srv_.remove(*this);
    on_gone();
}

// ---------------------------------------------------------------------------------------------
// EventsSession

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

// ---------------------------------------------------------------------------------------------
// TranscribeSession

void TranscribeSession::on_message(bool text, std::string_view data, Clock::time_point at) {
    if (state_ == State::ended)
        return close(websocket::close_code::protocol_error, "nothing may follow eof");
    if (text) return on_control(data, at);
    on_audio(data, at);
}

void TranscribeSession::on_control(std::string_view data, Clock::time_point at) {
    core::JsonPtr root;
    try {
        root = core::parse_json_strict(data);
    } catch (const core::ApiError& e) {
        return close(websocket::close_code::bad_payload, "malformed JSON: " + e.detail);
    }
    if (!cJSON_IsObject(root.get()))
        return close(websocket::close_code::unknown_data,
                     "expected audio frames, {\"config\": ...} or {\"eof\": 1}");
    if (const cJSON* config = cJSON_GetObjectItemCaseSensitive(root.get(), "config")) {
        if (state_ != State::configuring)
            return close(websocket::close_code::protocol_error, "config must come before audio");
        return on_config(config);
    }
    if (cJSON_GetObjectItemCaseSensitive(root.get(), "eof")) return on_eof(at);
    close(websocket::close_code::unknown_data,
          "expected audio frames, {\"config\": ...} or {\"eof\": 1}");
}

void TranscribeSession::on_config(const cJSON* config) {
    if (!cJSON_IsObject(config))
        return close(websocket::close_code::unknown_data, "config must be an object");
    // vosk-server reads these keys and ignores others; so do we.
    if (const cJSON* r = cJSON_GetObjectItemCaseSensitive(config, "sample_rate")) {
        if (!cJSON_IsNumber(r) || !(r->valuedouble >= 8000 && r->valuedouble <= 48000))
            return close(websocket::close_code::unknown_data,
                         "sample_rate must be between 8000 and 48000");
        opt_.sample_rate = static_cast<int>(r->valuedouble);
    }
    if (const cJSON* w = cJSON_GetObjectItemCaseSensitive(config, "words")) {
        if (!cJSON_IsBool(w) && !cJSON_IsNumber(w))
            return close(websocket::close_code::unknown_data, "words must be true or false");
        opt_.words = cJSON_IsBool(w) ? cJSON_IsTrue(w) : w->valuedouble != 0;
    }
    if (const cJSON* m = cJSON_GetObjectItemCaseSensitive(config, "max_alternatives")) {
        if (!cJSON_IsNumber(m) || m->valuedouble < 0 || m->valuedouble > 100)
            return close(websocket::close_code::unknown_data, "max_alternatives must be 0..100");
        opt_.max_alternatives = static_cast<int>(m->valuedouble);
    }
    if (const cJSON* p = cJSON_GetObjectItemCaseSensitive(config, "phrase_list")) {
        if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) > 10000)
            return close(websocket::close_code::unknown_data, "phrase_list must be an array");
        opt_.phrases.clear();
        const cJSON* item = nullptr;
        cJSON_ArrayForEach(item, p) {
            if (!cJSON_IsString(item))
                return close(websocket::close_code::unknown_data, "phrase_list holds strings");
            opt_.phrases.emplace_back(item->valuestring);
        }
    }
}

void TranscribeSession::ensure_stream() {
    if (stream_) return;
    stream_ = std::make_shared<LiveStream>(opt_, save_);
    lane_ = srv_.pick_lane();
    lane_taken_ = true;
    state_ = State::streaming;
    srv_.metrics().active_streams.fetch_add(1);
    srv_.metrics().streams_total.fetch_add(1);
}

void TranscribeSession::end_stream() {
    if (!lane_taken_) return;
    lane_taken_ = false;
    srv_.release_lane(lane_);
    srv_.metrics().active_streams.fetch_sub(1);
}

void TranscribeSession::on_audio(std::string_view data, Clock::time_point at) {
    if (data.size() % 2 != 0)
        return close(websocket::close_code::unknown_data,
                     "PCM frames are 16-bit samples: odd byte count");
    int64_t n = static_cast<int64_t>(data.size() / 2);
    if (samples_ + n > static_cast<int64_t>(srv_.cfg().live_max_stream_s) * opt_.sample_rate)
        return close(websocket::close_code::policy_error, "stream longer than live.max_stream_s");
    samples_ += n;
    ensure_stream();
    std::vector<int16_t> pcm(static_cast<size_t>(n));
    std::memcpy(pcm.data(), data.data(), data.size());
    auto self = std::static_pointer_cast<TranscribeSession>(shared_from_this());
    srv_.lane(lane_).post([self, stream = stream_, pcm = std::move(pcm), at](Lane& lane) {
        std::string reply, error;
        bool refused = false;
        try {
            reply = stream->accept(lane, pcm);
        } catch (const std::invalid_argument& e) {
            error = e.what();
            refused = true;
        } catch (const std::exception& e) {
            error = e.what();
        }
        self->srv_.on_io([self, reply = std::move(reply), error = std::move(error), refused, at] {
            self->replied(reply, error, refused, at, false);
        });
    });
}

void TranscribeSession::on_eof(Clock::time_point at) {
    ensure_stream();
    state_ = State::ended;
    auto self = std::static_pointer_cast<TranscribeSession>(shared_from_this());
    if (save_) srv_.save_started();
    srv_.lane(lane_).post([self, stream = stream_, at, saving = save_.has_value()](Lane& lane) {
        std::string reply, error;
        bool refused = false;
        std::optional<SavedStream> saved;
        try {
            reply = stream->finish(lane);
            if (saving) saved = stream->commit_audio();
        } catch (const std::invalid_argument& e) {
            error = e.what();
            refused = true;
            stream->abandon(lane);
        } catch (const std::exception& e) {
            error = e.what();
            stream->abandon(lane);
        }
        self->srv_.on_io([self, reply = std::move(reply), error, refused, at] {
            self->replied(reply, error, refused, at, true);
        });
        if (!saving) return;
        if (!saved) {
            self->srv_.on_io([self] { self->saved("", ""); });
            return;
        }
        self->srv_.db().post([self, saved = std::move(*saved)](db::Db& db) {
            std::string id, err;
            try {
                id = store_saved_stream(db, saved);
            } catch (const std::exception& e) {
                err = e.what();
            }
            self->srv_.on_io([self, id, err] { self->saved(id, err); });
        });
    });
}

void TranscribeSession::replied(const std::string& reply, const std::string& error, bool refused,
                                Clock::time_point at, bool final) {
    if (!error.empty()) {
        core::log_warn("live: stream failed: " + error);
        return close(
            refused ? websocket::close_code::unknown_data : websocket::close_code::internal_error,
            error);
    }
    double latency = std::chrono::duration<double>(Clock::now() - at).count();
    if (final) {
        srv_.metrics().final_latency.observe(latency);
    } else {
        srv_.metrics().partial_latency.observe(latency);
        srv_.metrics().frames_total.fetch_add(1);
    }
    send(reply);
    if (final) {
        end_stream();
        if (!save_) close(websocket::close_code::normal, "");
    }
}

void TranscribeSession::saved(const std::string& session_id, const std::string& error) {
    srv_.save_done();
    if (!error.empty()) {
        core::log_error("live: saving a stream failed: " + error);
        return close(websocket::close_code::internal_error, "the stream could not be saved");
    }
    if (!session_id.empty()) {
        srv_.metrics().sessions_saved.fetch_add(1);
        core::JsonWriter w;
        w.begin_object().field("session_id", session_id).end_object();
        send(w.take());
    }
    close(websocket::close_code::normal, "");
}

void TranscribeSession::on_gone() {
    if (!stream_ || state_ == State::ended) return;
    // Dropped mid-stream: the decoder goes back; with save=1 what was received is kept.
    state_ = State::ended;
    end_stream();
    bool saving = save_.has_value();
    if (saving) srv_.save_started();
    Server* srv = &srv_;
    srv_.lane(lane_).post([srv, stream = stream_, saving](Lane& lane) {
        std::optional<SavedStream> saved;
        try {
            stream->abandon(lane);
            if (saving) saved = stream->commit_audio();
        } catch (const std::exception& e) {
            core::log_error(std::string("live: keeping a dropped stream failed: ") + e.what());
        }
        if (!saving) return;
        if (!saved) return srv->on_io([srv] { srv->save_done(); });
        srv->db().post([srv, saved = std::move(*saved)](db::Db& db) {
            try {
                store_saved_stream(db, saved);
                srv->metrics().sessions_saved.fetch_add(1);
            } catch (const std::exception& e) {
                core::log_error(std::string("live: saving a dropped stream failed: ") + e.what());
            }
            srv->on_io([srv] { srv->save_done(); });
        });
    });
}

// ---------------------------------------------------------------------------------------------
// Server

// A lane starts with one decoder loaded, so that the first stream on it does not wait for the
// model (about a second). A model that cannot load is reported here and again per stream.
Lane warm_lane(const speech::RecognizerConfig& rc) {
    Lane lane{rc, {}};
    try {
        lane.give_back(std::make_unique<speech::StreamDecoder>(rc));
    } catch (const std::exception& e) {
        core::log_error(std::string("live: loading the recognizer: ") + e.what());
    }
    return lane;
}

Server::Server(const core::Config& cfg, net::io_context& ioc)
    : cfg_(cfg),
      ioc_(ioc),
      tokens_(fcgi::token_settings(cfg)),
      origins_(split_origins(cfg.live_allowed_origins)),
      acceptor_(ioc),
      signals_(ioc, SIGTERM, SIGINT),
      recheck_timer_(ioc),
      prune_timer_(ioc),
      drain_timer_(ioc) {}

void Server::start() {
    db::DbSettings dbs = fcgi::db_settings(cfg_, "live");
    db_ = std::make_unique<TaskThread<db::Db>>([dbs] { return db::Db(dbs); });
    for (int i = 0; i < cfg_.live_decoders; ++i) {
        speech::RecognizerConfig rc;
        rc.model_dir = cfg_.model_root + "/en-us";
        lanes_.push_back(std::make_unique<TaskThread<Lane>>([rc] { return warm_lane(rc); }));
        lane_streams_.push_back(0);
    }
    feed_ = std::make_unique<EventFeed>(
        fcgi::db_settings(cfg_, "live-listen"),
        [this](std::vector<db::StoredEvent> events) {
            on_io([this, events = std::move(events)]() mutable { deliver(std::move(events)); });
        },
        [this] { metrics_.listener_reconnects.fetch_add(1); });

    ::unlink(cfg_.live_socket.c_str());
    Local::endpoint ep(cfg_.live_socket);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
    // nginx's workers connect; nobody else on the machine should.
    ::chmod(cfg_.live_socket.c_str(), 0660);
    if (!cfg_.api_socket_group.empty()) {
        struct group* g = getgrnam(cfg_.api_socket_group.c_str());
        if (!g || chown(cfg_.live_socket.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
            throw std::runtime_error("cannot give " + cfg_.live_socket + " to group " +
                                     cfg_.api_socket_group);
    }
    signals_.async_wait([this](error_code ec, int sig) {
        if (!ec) shutdown(sig);
    });
    accept_next();
    schedule_recheck();
    schedule_prune();
    core::log_info("live: listening on " + cfg_.live_socket + " with " +
                   std::to_string(cfg_.live_decoders) + " decoder threads");
}

void Server::accept_next() {
    acceptor_.async_accept([this](error_code ec, Local::socket sock) {
        if (ec) {
            if (ec == net::error::operation_aborted || stopping_) return;
            core::log_warn("live: accept: " + ec.message());
        } else {
            std::make_shared<HttpConnection>(*this, std::move(sock))->start();
        }
        if (!stopping_) accept_next();
    });
}

bool Server::reserve_slot(const std::string& user_id) {
    int& n = slots_[user_id];
    if (n >= cfg_.live_max_sockets_per_user) return false;
    ++n;
    return true;
}

void Server::release_slot(const std::string& user_id) {
    auto it = slots_.find(user_id);
    if (it == slots_.end()) return;
    if (--it->second <= 0) slots_.erase(it);
}

void Server::add(const std::shared_ptr<WsSession>& s) {
    sessions_.emplace(s->id(), s);
}

void Server::remove(const WsSession& s) {
    if (sessions_.erase(s.id())) release_slot(s.who().user_id);
    if (dynamic_cast<const EventsSession*>(&s)) metrics_.open_event_sockets.fetch_sub(1);
    auto it = subscribers_.find(s.who().user_id);
    if (it == subscribers_.end()) return;
    auto& v = it->second;
    std::erase_if(v, [&](const std::weak_ptr<EventsSession>& w) {
        auto p = w.lock();
        return !p || p.get() == &s;
    });
    if (v.empty()) subscribers_.erase(it);
}

void Server::subscribe(const std::string& user_id, std::weak_ptr<EventsSession> s) {
    subscribers_[user_id].push_back(std::move(s));
}

size_t Server::pick_lane() {
    size_t best = 0;
    for (size_t i = 1; i < lane_streams_.size(); ++i)
        if (lane_streams_[i] < lane_streams_[best]) best = i;
    ++lane_streams_[best];
    return best;
}

// Each event goes once to each of its owner's event sockets; a seq already delivered (the
// catch-up after a reconnection overlaps what NOTIFY brought) is dropped.
void Server::deliver(std::vector<db::StoredEvent> events) {
    for (const auto& e : events) {
        if (!seen_.empty() && seen_.size() >= kSeenEvents && e.seq < *seen_.begin()) continue;
        if (!seen_.insert(e.seq).second) continue;
        if (seen_.size() > kSeenEvents) seen_.erase(seen_.begin());
        metrics_.events_received.fetch_add(1);
        auto it = subscribers_.find(e.user_id);
        if (it == subscribers_.end()) continue;
        std::string text = event_message(e.seq, e.event, e.data_json);
        for (const auto& w : it->second)
            if (auto s = w.lock()) s->push(e.seq, text);
    }
}

void Server::schedule_recheck() {
    recheck_timer_.expires_after(std::chrono::seconds(cfg_.live_recheck_s));
    recheck_timer_.async_wait([this](error_code ec) {
        if (ec || stopping_) return;
        recheck();
        schedule_recheck();
    });
}

// Tokens expire and users are deactivated while sockets stay open: each is closed within
// live.recheck_s with a code that says why.
void Server::recheck() {
    int64_t now = std::time(nullptr);
    std::set<std::string> users;
    for (auto& [id, w] : sessions_) {
        auto s = w.lock();
        if (!s || s->gone()) continue;
        if (s->who().expires_at + tokens_.leeway_s <= now) {
            s->close(4001, "access token expired");
            continue;
        }
        users.insert(s->who().user_id);
    }
    if (users.empty()) return;
    db_->post([this, users = std::move(users)](db::Db& db) {
        std::unordered_map<std::string, std::optional<db::User>> found;
        try {
            for (const auto& u : users) found[u] = db::find_user_auth(db, u);
        } catch (const std::exception&) {
            return;  // the database is away: check again next time
        }
        on_io([this, found = std::move(found)] {
            for (auto& [id, w] : sessions_) {
                auto s = w.lock();
                if (!s) continue;
                auto it = found.find(s->who().user_id);
                if (it == found.end()) continue;
                const auto& u = it->second;
                if (!u || !u->is_active)
                    s->close(4003, "user deactivated or deleted");
                else if (u->token_version != s->who().token_version)
                    s->close(4004, "access token revoked");
            }
        });
    });
}

void Server::schedule_prune() {
    prune_timer_.expires_after(std::chrono::seconds(kPruneEverySeconds));
    prune_timer_.async_wait([this](error_code ec) {
        if (ec || stopping_) return;
        db_->post([keep = cfg_.live_events_keep_s](db::Db& db) {
            try {
                int64_t n = db::prune_events(db, keep);
                if (n > 0) core::log_info("live: pruned " + std::to_string(n) + " old events");
            } catch (const std::exception& e) {
                core::log_warn(std::string("live: pruning events: ") + e.what());
            }
        });
        schedule_prune();
    });
}

void Server::shutdown(int sig) {
    core::log_info("live: stopping on signal " + std::to_string(sig) + ": closing sockets");
    stopping_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    recheck_timer_.cancel();
    prune_timer_.cancel();
    for (auto& [id, w] : sessions_)
        if (auto s = w.lock()) s->close(websocket::close_code::going_away, "server shutting down");
    wait_for_drain(Clock::now() + kShutdownGrace);
}

// Sockets close and dropped streams are saved before the loop ends.
void Server::wait_for_drain(Clock::time_point deadline) {
    if ((sessions_.empty() && pending_saves_ == 0) || Clock::now() >= deadline) {
        ioc_.stop();
        return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this, deadline](error_code) { wait_for_drain(deadline); });
}

// Lanes first (they may still post saves to the database thread), then the database thread.
void Server::stop_lanes_and_db() {
    feed_.reset();
    lanes_.clear();
    db_.reset();
}

}  // namespace

int run_live_daemon(const core::Config& cfg) {
    // Asio sends with MSG_NOSIGNAL; this also covers anything else writing to a dead peer.
    std::signal(SIGPIPE, SIG_IGN);
    net::io_context ioc(1);
    Server server(cfg, ioc);
    server.start();
    ioc.run();
    server.stop_lanes_and_db();
    core::log_info("live: stopped");
    return 0;
}

}  // namespace live
