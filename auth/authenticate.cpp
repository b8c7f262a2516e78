// Token and cookie authentication.
#include "auth/authenticate.h"

#include <sodium.h>

#include <cctype>
#include <ctime>

#include "core/problem.h"
#include "core/query.h"

namespace auth {
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

void require_csrf(std::optional<std::string_view> cookie_header,
                  std::optional<std::string_view> csrf_header) {
    auto expected = cookie_header ? core::cookie_value(*cookie_header, kCsrfCookie) : std::nullopt;
    auto given = csrf_header;
    if (!expected || expected->empty() || !given || given->size() != expected->size() ||
        sodium_memcmp(given->data(), expected->data(), expected->size()) != 0) {
        throw core::ApiError::forbidden(
            "cookie-authenticated requests that change state need "
            "an X-CSRF-Token header equal to the rostrum_csrf cookie");
    }
}

std::optional<db::User> current_user(db::Db& db, const core::AccessClaims& claims) {
    auto user = db::find_user_auth(db, claims.user_id);
    if (!user || !user->is_active || user->token_version != claims.token_version)
        return std::nullopt;
    return user;
}

Authenticated authenticate(const Credentials& c, db::Db& db, const core::TokenSettings& tokens) {
    std::string token;
    bool via_cookie = false;
    if (c.authorization) {
        token = std::string(bearer_token(*c.authorization));
    } else if (c.cookie) {
        if (auto v = core::cookie_value(*c.cookie, kAccessCookie)) {
            token = *v;
            via_cookie = true;
        }
    }
    if (token.empty()) throw core::ApiError::unauthorized("missing access token");
    auto claims = core::verify_access_token(tokens, token, std::time(nullptr));
    if (!claims) throw core::ApiError::unauthorized("invalid or expired access token");
    auto user = current_user(db, *claims);
    if (!user) throw core::ApiError::unauthorized("access token revoked");
    if (via_cookie && !is_safe_method(c.method)) require_csrf(c.cookie, c.csrf);
    return Authenticated{std::move(*user), via_cookie};
}

}  // namespace auth
