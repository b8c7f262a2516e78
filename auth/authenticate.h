// Who is calling: the access token from `Authorization: Bearer` or the HttpOnly cookie,
// verified, then checked against the user's row (active, token_version) on every request.
// Stated in header values, not in a transport's request type, so that the API (FastCGI) and
// the live daemon (its own HTTP parser) share the rule without including each other.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/tokens.h"
#include "db/pg.h"
#include "db/users.h"

namespace auth {

inline constexpr const char kAccessCookie[] = "rostrum_access";
inline constexpr const char kRefreshCookie[] = "rostrum_refresh";
inline constexpr const char kCsrfCookie[] = "rostrum_csrf";
inline constexpr const char kCsrfHeader[] = "x-csrf-token";

// What a request shows to prove its caller: its method and three headers (absent: nullopt).
struct Credentials {
    std::string_view method;
    std::optional<std::string_view> authorization;  // Authorization
    std::optional<std::string_view> cookie;         // Cookie
    std::optional<std::string_view> csrf;           // X-CSRF-Token
};

struct Authenticated {
    db::User user;
    bool via_cookie = false;  // the token came from the access cookie, not a Bearer header
};

// The caller, or throws core::ApiError 401 (no/bad token, user gone, inactive, token version
// stale) or 403 (cookie-authenticated unsafe request without a matching CSRF header). One
// query (the user's row).
Authenticated authenticate(const Credentials& c, db::Db& db, const core::TokenSettings& tokens);

// The user a verified token still speaks for: the row exists, is active and has the token's
// token_version; nullopt when the token was revoked. Throws db::DbError when the database
// fails. The one rule for both daemons (the live daemon calls it on its database thread).
std::optional<db::User> current_user(db::Db& db, const core::AccessClaims& claims);

// True for GET/HEAD/OPTIONS: requests that change nothing and need no CSRF proof.
bool is_safe_method(std::string_view method);
// The double-submit check: the X-CSRF-Token header equals the rostrum_csrf cookie
// (constant-time comparison). Throws 403 otherwise.
void require_csrf(std::optional<std::string_view> cookie_header,
                  std::optional<std::string_view> csrf_header);

}  // namespace auth
