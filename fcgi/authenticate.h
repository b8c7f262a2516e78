// Who is calling: the access token from `Authorization: Bearer` or the HttpOnly cookie,
// verified, then checked against the user's row (active, token_version) on every request.
#pragma once

#include "fcgi/request.h"
#include "fcgi/router.h"

#include <string>
#include <string_view>
#include <vector>

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

// True when a Host value ("name" or "name:port", "[v6]:port") is one of site.hosts: an entry
// without a port admits every port, one with a port only that port. Case-insensitive.
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed);
// 421 problem unless the request's Host is one of site.hosts (DNS rebinding: a page whose
// name an attacker points at 127.0.0.1 sends its own name as Host). A request without any
// Host passes: every browser sends one, so it is no rebinding page (nginx itself refuses it).
void require_allowed_host(const Request& req, const std::vector<std::string>& allowed);
// For routes that set cookies: 403 problem when a browser says the request comes from another
// site (Sec-Fetch-Site: cross-site, or an Origin whose host is not in site.hosts). Clients
// that send neither header (curl, scripts, non-browser apps) pass.
void require_same_site(const Request& req, const std::vector<std::string>& allowed);

}  // namespace fcgi
