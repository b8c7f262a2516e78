// HttpConnection: one plain HTTP exchange on the daemon's unix socket (live/http_connection.h).
#include "live/http_connection.h"

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticate.h"
#include "core/json.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/query.h"
#include "core/tokens.h"
#include "db/patients.h"
#include "db/projects.h"
#include "db/users.h"
#include "live/events_session.h"
#include "live/server.h"
#include "live/transcribe_session.h"
#include "live/upgrade.h"

namespace live {
namespace {

constexpr auto kHeaderTimeout = std::chrono::seconds(10);

// nginx's $request_id (X-Request-Id), quoted in close reasons and logs; anything else is not
// trusted into them.
std::string request_id(const Request& req) {
    auto it = req.find("X-Request-Id");
    if (it == req.end()) return {};
    return clean_request_id(std::string_view(it->value().data(), it->value().size()));
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
    void upgrade(Request req, std::string_view path, const core::Params& query);
    void user_checked(Request req, std::string path, core::AccessClaims claims,
                      std::optional<SaveTarget> save, std::string language,
                      std::optional<int64_t> since, std::optional<db::User> user, bool db_ok,
                      bool project_ok, bool patient_ok);
    void answer(int status, std::string content_type, std::string body,
                std::vector<std::pair<std::string, std::string>> headers = {});
    void refuse(const core::ApiError& e) {
        srv_.metrics().upgrades_refused.fetch_add(1);
        answer(e.status, "application/problem+json", core::problem_json(e, request_id_), e.headers);
    }

    Server& srv_;
    Local::socket sock_;
    net::steady_timer timer_;
    beast::flat_buffer buf_;
    http::request_parser<http::empty_body> parser_;
    std::shared_ptr<http::response<http::string_body>> res_;
    std::string request_id_;  // of the request being answered: refusals carry it, as the API's
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
    request_id_ = request_id(req);
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
        core::Params query = core::parse_query(qs);
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
void HttpConnection::upgrade(Request req, std::string_view path, const core::Params& query) {
    check_origin(header(req, http::field::origin), header(req, http::field::host).value_or(""),
                 srv_.origins());
    std::string token = access_token(query, header(req, http::field::cookie));
    auto claims = core::verify_access_token(srv_.tokens(), token, std::time(nullptr));
    if (!claims) throw core::ApiError::unauthorized("invalid or expired access token");
    std::optional<SaveTarget> save;
    std::string language;
    std::optional<int64_t> since;
    if (path == "/ws/events") {
        core::refuse_unknown_params(query, "token since");
        since = events_since(query);
    } else {
        core::refuse_unknown_params(query,
                                    "token save kind title patient_id project_id consent lang");
        save = save_target(query);
        // scribe.require_consent, as for an upload: refused before any socket or file exists.
        if (save && save->kind == "scribe" && srv_.cfg().scribe_require_consent && !save->consent)
            throw core::ApiError::unprocessable(
                "consent", "a scribe recording needs consent=true (scribe.require_consent)");
        language = stream_language(query, srv_.cfg().model_root);
    }
    bool stream = path == "/ws/transcribe";
    if (stream && !srv_.reserve_stream()) {
        core::ApiError e(503, "Service Unavailable",
                         "the live daemon has as many streams as it takes (live.max_streams)", {},
                         "/problems/too-many-streams");
        e.headers.emplace_back("Retry-After", "5");
        throw e;
    }
    if (!srv_.reserve_slot(claims->user_id)) {
        if (stream) srv_.release_stream();
        core::ApiError e(429, "Too Many Requests",
                         "too many open sockets for this user (live.max_sockets_per_user)", {},
                         "/problems/too-many-sockets");
        e.headers.emplace_back("Retry-After", "10");
        throw e;
    }
    srv_.db().post([self = shared_from_this(), req = std::move(req), path = std::string(path),
                    claims = *claims, save, language, since](db::Db& db) mutable {
        std::optional<db::User> user;
        bool ok = true;
        bool project_ok = true;  // save's project_id names a project the user can see
        bool patient_ok = true;  // save's patient_id, when given, is one of the user's patients
        try {
            user = auth::current_user(db, claims);
            if (user && save && save->project_id)
                project_ok = db::project_visible(db, *save->project_id, claims.user_id);
            if (user && save && save->patient_id)
                patient_ok = db::owns_patient(db, claims.user_id, *save->patient_id);
        } catch (const std::exception& e) {
            core::log_warn("live: checking the user of an upgrade (request " + request_id(req) +
                           "): " + e.what());
            ok = false;
        }
        self->srv_.on_io([self, req = std::move(req), path = std::move(path), claims,
                          save = std::move(save), language = std::move(language), since,
                          user = std::move(user), ok, project_ok, patient_ok]() mutable {
            self->user_checked(std::move(req), std::move(path), claims, std::move(save),
                               std::move(language), since, std::move(user), ok, project_ok,
                               patient_ok);
        });
    });
}

void HttpConnection::user_checked(Request req, std::string path, core::AccessClaims claims,
                                  std::optional<SaveTarget> save, std::string language,
                                  std::optional<int64_t> since, std::optional<db::User> user,
                                  bool db_ok, bool project_ok, bool patient_ok) {
    if (!db_ok || !user || !project_ok || !patient_ok) {
        srv_.release_slot(claims.user_id);
        if (path == "/ws/transcribe") srv_.release_stream();
        if (!db_ok) return refuse(core::ApiError::unavailable("the database is not reachable"));
        if (!user) return refuse(core::ApiError::unauthorized("access token revoked"));
        // The upload's rules (handlers/sessions.cpp): 422, nothing stored.
        if (!patient_ok)
            return refuse(
                core::ApiError::unprocessable("patient_id", "is not one of your patients"));
        return refuse(core::ApiError::unprocessable("project_id", db::kProjectNotVisible));
    }
    timer_.cancel();
    Identity who{claims.user_id, claims.token_version, claims.expires_at, request_id(req)};
    std::shared_ptr<WsSession> s;
    if (path == "/ws/events") {
        s = std::make_shared<EventsSession>(srv_, std::move(sock_), who, since);
    } else {
        if (save) {
            save->user_id = claims.user_id;
            save->audio_dir = core::audio_dir(srv_.cfg());
        }
        s = std::make_shared<TranscribeSession>(srv_, std::move(sock_), who, std::move(language),
                                                std::move(save));
    }
    s->start(std::move(req));
}

}  // namespace

void serve_http(Server& srv, Local::socket sock) {
    std::make_shared<HttpConnection>(srv, std::move(sock))->start();
}

}  // namespace live
