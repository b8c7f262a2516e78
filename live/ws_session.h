// One accepted WebSocket of the live daemon: the read loop (messages counted against
// live.max_message_bytes, 1009), a bounded send queue (1008 for a slow consumer) and the close
// handshake. /ws/transcribe and /ws/events derive from it. Everything here runs on the I/O
// thread; see live/server.h for the daemon's design.
#pragma once

#include <utility>  // Boost 1.74's asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace live {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using Local = net::local::stream_protocol;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using Request = http::request<http::empty_body>;

// Who a socket belongs to, from the access token checked before the upgrade.
struct Identity {
    std::string user_id;
    int64_t token_version = 0;
    int64_t expires_at = 0;
    std::string request_id;  // nginx's X-Request-Id of the upgrade: quoted in close reasons, logged
};

class Server;

// A close reason for a failure on our side: a fixed text and the request id to quote (the
// detail is in the log under that id, never in the reason).
std::string with_request_id(const std::string& reason, const Identity& who);

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
    // Bytes queued to send and not yet written.
    size_t queued_bytes() const { return out_bytes_; }

  protected:
    virtual void on_open() {}
    virtual void on_message(bool text, std::string_view data, Clock::time_point at) = 0;
    virtual void on_gone() {}
    // Asked after each message: false stops reading the socket (back-pressure: TCP then holds
    // the client) until resume_reading(). A closing socket is always read.
    virtual bool wants_input() const { return true; }
    void resume_reading();
    // A queued message was written: replays feed more as the queue drains.
    virtual void on_sent() {}
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
    bool paused_ = false;  // the read loop waits for resume_reading()
    websocket::close_reason pending_close_;
    net::steady_timer force_close_;
};

}  // namespace live
