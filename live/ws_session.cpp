// WsSession: reading, sending and closing one WebSocket (live/ws_session.h).
#include "live/ws_session.h"

#include "live/server.h"

namespace live {
namespace {

constexpr auto kCloseGrace = std::chrono::seconds(5);

}  // namespace

std::string with_request_id(const std::string& reason, const Identity& who) {
    if (who.request_id.empty()) return reason;
    return reason + " (request " + who.request_id + ")";
}

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
    if (!closing_ && !wants_input()) {
        paused_ = true;
        srv_.metrics().reads_paused.fetch_add(1);
        return;
    }
    read_next();
}

void WsSession::resume_reading() {
    if (!paused_ || gone_) return;
    paused_ = false;
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
        self->on_sent();
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
    resume_reading();  // the client's close reply must be read
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

}  // namespace live
