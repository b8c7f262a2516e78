// fcgi::App for the API: what a serving process opens, how a caller is authenticated, and which
// problem a database error is.
#include "handlers/api.h"

#include <memory>

#include "auth/authenticate.h"
#include "core/log.h"
#include "core/tokens.h"
#include "db/pg.h"
#include "db/settings.h"
#include "db/sqlstate.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

// One connection (opened lazily, on the first query) and the token settings, for the
// process's whole life.
class ApiProcess final : public fcgi::Process {
  public:
    ApiProcess(const core::Config& cfg, const char* role, const fcgi::Scoreboard* board)
        : db_(db::db_settings(cfg, role)),
          tokens_(core::token_settings(cfg)),
          ctx_{db_, cfg, tokens_, board} {}
    fcgi::Ctx& ctx() override { return ctx_; }

  private:
    db::Db db_;
    core::TokenSettings tokens_;
    fcgi::Ctx ctx_;
};

std::unique_ptr<fcgi::Process> open(const core::Config& cfg, const char* role,
                                    const fcgi::Scoreboard* board) {
    return std::make_unique<ApiProcess>(cfg, role, board);
}

void authenticate(Request& req, Ctx& ctx) {
    auth::Credentials c{req.method, req.header("authorization"), req.header("cookie"),
                        req.header(auth::kCsrfHeader)};
    auth::Authenticated a = auth::authenticate(c, ctx.db, ctx.tokens);
    const db::User& u = a.user;
    req.caller = fcgi::Caller{u.id,         u.email,      u.name,      u.role, u.token_version,
                              u.created_at, u.updated_at, a.via_cookie};
}

std::optional<core::ApiError> map_error(const std::exception& e, const Request& req) {
    const auto* dbe = dynamic_cast<const db::DbError*>(&e);
    if (!dbe) return std::nullopt;
    core::ApiError mapped = db::map_db_error(*dbe);
    core::LogContext lc{req.request_id, {}, req.route_name};
    core::log_line(mapped.status >= 500 ? core::LogLevel::error : core::LogLevel::info, lc,
                   std::string("database: ") + e.what() + " sqlstate=" + dbe->sqlstate);
    return mapped;
}

}  // namespace

const fcgi::App& api_app() {
    static const fcgi::App app{route_table(), open, authenticate, map_error};
    return app;
}

}  // namespace handlers
