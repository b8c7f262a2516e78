// Token and cookie authentication.
#include "fcgi/authenticate.h"

#include <sodium.h>

#include <ctime>

#include "core/problem.h"
#include "core/tokens.h"
#include "db/users.h"

namespace fcgi {
namespace {

// The token from "Bearer <token>" (scheme case-insensitive, exactly one space), or throws 401.
std::string_view bearer_token(std::string_view header) {
    constexpr std::string_view kScheme = "bearer ";
    if (header.size() <= kScheme.size()) throw core::ApiError::unauthorized();
    for (size_t i = 0; i < kScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i])
            throw core::ApiError::unauthorized();
    std::string_view token = header.substr(kScheme.size());
    if (token.find(' ') != std::string_view::npos) throw core::ApiError::unauthorized();
    return token;
}

}  // namespace

bool is_safe_method(std::string_view m) {
    return m == "GET" || m == "HEAD" || m == "OPTIONS";
}

void require_csrf(const Request& req) {
    auto cookies = req.header("cookie");
    auto expected = cookies ? cookie_value(*cookies, kCsrfCookie) : std::nullopt;
    auto given = req.header(kCsrfHeader);
    if (!expected || expected->empty() || !given || given->size() != expected->size() ||
        sodium_memcmp(given->data(), expected->data(), expected->size()) != 0) {
        throw core::ApiError::forbidden(
            "cookie-authenticated requests that change state need "
            "an X-CSRF-Token header equal to the rostrum_csrf cookie");
    }
}

void authenticate(Request& req, Ctx& ctx) {
    std::string token;
    bool via_cookie = false;
    if (auto h = req.header("authorization")) {
        token = std::string(bearer_token(*h));
    } else if (auto cookies = req.header("cookie")) {
        if (auto c = cookie_value(*cookies, kAccessCookie)) {
            token = *c;
            via_cookie = true;
        }
    }
    if (token.empty()) throw core::ApiError::unauthorized("missing access token");
    auto claims = core::verify_access_token(ctx.tokens, token, std::time(nullptr));
    if (!claims) throw core::ApiError::unauthorized("invalid or expired access token");
    auto user = db::find_user_auth(ctx.db, claims->user_id);
    if (!user || !user->is_active || user->token_version != claims->token_version)
        throw core::ApiError::unauthorized("access token revoked");
    if (via_cookie && !is_safe_method(req.method)) require_csrf(req);
    req.caller =
        Caller{user->id,         user->email,      user->name, user->role, user->token_version,
               user->created_at, user->updated_at, via_cookie};
}

}  // namespace fcgi
