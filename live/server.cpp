// The live daemon's state on its I/O thread (live/server.h): the acceptor, per-user socket
// slots, decoder lanes, the event fan-out, token rechecks, pruning and a draining shutdown.
#include "live/server.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include "core/log.h"
#include "core/process.h"
#include "db/settings.h"
#include "db/users.h"
#include "live/daemon.h"
#include "live/events_session.h"
#include "live/http_connection.h"
#include "live/transcribe_session.h"
#include "live/upgrade.h"
#include "speech/languages.h"

namespace live {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(10);
constexpr size_t kSeenEvents = 16384;  // seqs remembered for dedupe
constexpr int kPruneEverySeconds = 600;

// A lane starts with one decoder loaded, so that the first stream on it does not wait for the
// model (about a second). A model that cannot load is reported here and again per stream.
Lane warm_lane(const std::string& model_root, const speech::RecognizerConfig& rc) {
    Lane lane;
    lane.model_root = model_root;
    lane.recognizer = rc;
    try {
        lane.give_back(speech::kDefaultLanguage, lane.take(speech::kDefaultLanguage));
    } catch (const std::exception& e) {
        core::log_error(std::string("live: loading the recognizer: ") + e.what());
    }
    return lane;
}

}  // namespace

Server::Server(const core::Config& cfg, net::io_context& ioc)
    : cfg_(cfg),
      ioc_(ioc),
      tokens_(core::token_settings(cfg)),
      origins_(split_origins(cfg.live_allowed_origins)),
      acceptor_(ioc),
      signals_(ioc, SIGTERM, SIGINT),
      recheck_timer_(ioc),
      prune_timer_(ioc),
      drain_timer_(ioc) {}

void Server::start() {
    // Before anything is loaded: a second instance refuses at once (SocketInUse) instead of
    // taking the running daemon's socket; a stale socket from a crashed run is removed.
    core::claim_socket_path(cfg_.live_socket);
    db::DbSettings dbs = db::db_settings(cfg_, "live");
    db_ = std::make_unique<TaskThread<db::Db>>([dbs] { return db::Db(dbs); });
    for (int i = 0; i < cfg_.live_decoders; ++i) {
        speech::RecognizerConfig rc;  // model_dir: each stream's language's (Lane::take)
        rc.stream_max_hmms = cfg_.live_max_hmms;
        lanes_.push_back(std::make_unique<TaskThread<Lane>>(
            [root = cfg_.model_root, rc] { return warm_lane(root, rc); }));
        lane_streams_.push_back(0);
    }
    feed_ = std::make_unique<EventFeed>(
        db::db_settings(cfg_, "live-listen"),
        [this](std::vector<db::StoredEvent> events) {
            on_io([this, events = std::move(events)]() mutable { deliver(std::move(events)); });
        },
        [this] { metrics_.listener_reconnects.fetch_add(1); });

    Local::endpoint ep(cfg_.live_socket);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
    // nginx's workers connect; nobody else on the machine should.
    if (::chmod(cfg_.live_socket.c_str(), 0660) != 0)
        throw std::runtime_error("chmod " + cfg_.live_socket + ": " + std::strerror(errno));
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
                   std::to_string(cfg_.live_decoders) + " decoder threads, at most " +
                   std::to_string(cfg_.live_max_hmms) + " HMMs per frame");
}

void Server::accept_next() {
    acceptor_.async_accept([this](error_code ec, Local::socket sock) {
        if (ec) {
            if (ec == net::error::operation_aborted || stopping_) return;
            core::log_warn("live: accept: " + ec.message());
        } else {
            serve_http(*this, std::move(sock));
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

bool Server::reserve_stream() {
    if (open_streams_ >= cfg_.live_max_streams) return false;
    ++open_streams_;
    return true;
}

void Server::add(const std::shared_ptr<WsSession>& s) {
    sessions_.emplace(s->id(), s);
}

void Server::remove(const WsSession& s) {
    if (sessions_.erase(s.id())) {
        release_slot(s.who().user_id);
        if (dynamic_cast<const TranscribeSession*>(&s)) release_stream();
    }
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
