// Who is calling: the access token from `Authorization: Bearer` or the HttpOnly cookie,
// verified, then checked against the user's row (active, token_version) on every request.
#pragma once

#include "fcgi/request.h"
#include "fcgi/router.h"

namespace fcgi {

inline constexpr const char kAccessCookie[] = "rostrum_access";
inline constexpr const char kRefreshCookie[] = "rostrum_refresh";
inline constexpr const char kCsrfCookie[] = "rostrum_csrf";
inline constexpr const char kCsrfHeader[] = "x-csrf-token";

// Fills req.caller or throws ApiError 401 (no/bad token, user gone, inactive, token version
// stale) or 403 (cookie-authenticated unsafe request without a matching CSRF header).
void authenticate(Request& req, Ctx& ctx);

// True for GET/HEAD/OPTIONS: requests that change nothing and need no CSRF proof.
bool is_safe_method(std::string_view method);
// The double-submit check: the X-CSRF-Token header equals the rostrum_csrf cookie
// (constant-time comparison). Throws 403 otherwise.
void require_csrf(const Request& req);

}  // namespace fcgi
