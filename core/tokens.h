// Access tokens (HS256 JWT through libjwt 1.10, with every claim checked here, because 1.10
// checks none) and opaque refresh tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

struct TokenSettings {
    std::string secret;    // at least 32 bytes; startup refuses shorter (see config)
    std::string issuer;    // "iss"
    std::string audience;  // "aud"
    int64_t access_ttl_s = 900;
    int64_t leeway_s = 30;  // tolerated clock skew for exp/nbf/iat
};

struct AccessClaims {
    std::string user_id;    // "sub": a UUID
    int64_t token_version;  // "tv": must equal users.token_version
    int64_t issued_at;      // "iat"
    int64_t expires_at;     // "exp"
};

inline constexpr size_t kMaxTokenBytes = 4096;

struct Config;
// The token settings every serving process (API, CGI, live) derives from the config.
TokenSettings token_settings(const Config& cfg);

// Mints an HS256 access token: iss, aud, sub, iat, nbf, exp, jti, tt:"access", tv.
std::string issue_access_token(const TokenSettings& s, std::string_view user_id,
                               int64_t token_version, int64_t now);

// Verifies everything or returns nullopt: size ≤ kMaxTokenBytes, jwt_decode with the key,
// jwt_get_alg()==HS256 (the library trusts the header's alg), integer exp/iat (and nbf if
// present) with leeway, iss, aud, tt=="access", sub a UUID, integer tv. Header fields kid/jku/
// x5u/jwk are ignored; a `crit` header is refused. Never throws on bad input.
std::optional<AccessClaims> verify_access_token(const TokenSettings& s, std::string_view token,
                                                int64_t now);

// 32 random bytes, base64url without padding (43 characters).
std::string new_refresh_token();
// Hex SHA-256 of a token: what the database stores instead of the token.
std::string token_hash(std::string_view token);
// 32 random bytes, base64url (for CSRF double-submit cookies and generated secrets).
std::string random_token();

}  // namespace core
