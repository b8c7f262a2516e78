// Pieces several handlers share: reading a JSON body, cursors, the email rule, and issuing a
// token pair.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "db/users.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "fcgi/router.h"

namespace handlers {

// Parses req.body strictly (400 on anything odd); the route's flags already checked the
// content type.
core::JsonPtr json_body(const fcgi::Request& req);

// A date (2026-11-23) or RFC 3339 time (2026-11-23T10:15:00Z, fractions and ±hh:mm offsets up
// to 14:00 allowed) with every field in range; throws 400 naming `field` otherwise, so that
// PostgreSQL never sees a value it would refuse.
std::string rfc3339_or_throw(std::string_view text, const char* field);
// Exactly YYYY-MM-DD, a day the month has (2026-02-29 and 2026-02-30 are not).
bool is_calendar_date(std::string_view text);

// Keyset cursors: opaque base64url of "<key>.<uuid>". Decoding throws 400 on anything else.
std::string encode_cursor(const std::string& key, const std::string& id);
std::pair<std::string, std::string> decode_cursor_or_throw(std::string_view cursor);

// Lower-cases and checks an email address: ASCII only (so that no look-alike letters make a
// second account for the same person), 3–254 characters, one '@', a dotted domain.
// Throws 422 on field "email".
std::string normalise_email_or_throw(std::string_view email);
// 422 on field "password" when the policy refuses it.
void check_password_policy_or_throw(std::string_view password, const char* field);

// A login: starts a refresh token family (stores the token's hash) and answers with the pair.
fcgi::Response login_response(fcgi::Ctx& ctx, const db::User& user, bool cookies);
// Answers 200 {access_token, refresh_token, token_type, expires_in} with a fresh access token.
// With cookies, also sets the HttpOnly access/refresh cookies and the CSRF cookie.
fcgi::Response token_pair_response(fcgi::Ctx& ctx, const std::string& user_id,
                                   int64_t token_version, const std::string& refresh_token,
                                   bool cookies);
// Set-Cookie headers that delete the auth cookies.
void clear_auth_cookies(fcgi::Response& res, const fcgi::Ctx& ctx);
// True when the client asked for cookies (?set_cookie=true) — browsers and HTML forms.
bool wants_cookies(const fcgi::Request& req);

// How many of the pool's workers are in the route named `route_name` right now, this one
// included (each worker publishes its route on the scoreboard before the handler runs): the
// bound of the routes that hold a worker while they wait. 0 in CGI mode (no pool, no board).
int workers_in_route(const fcgi::Ctx& ctx, std::string_view route_name);

}  // namespace handlers
