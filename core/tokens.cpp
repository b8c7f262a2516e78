// Access-token minting and verification (libjwt 1.10 plus every check it lacks), refresh tokens.
#include "core/tokens.h"

#include <cjson/cJSON.h>
#include <jwt.h>
#include <sodium.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "core/c_handles.h"
#include "core/config.h"
#include "core/json.h"

namespace core {

TokenSettings token_settings(const Config& cfg) {
    return TokenSettings{cfg.jwt_secret, cfg.jwt_issuer, cfg.jwt_audience, cfg.access_ttl_s, 30};
}

namespace {

void free_c_string(char* p) noexcept {
    std::free(p);
}

using JwtPtr = std::unique_ptr<jwt_t, CDeleter<jwt_free>>;
// libjwt 1.10 has no jwt_free_str: its strings come from malloc (json_dumps, strdup).
using JwtTextPtr = std::unique_ptr<char, CDeleter<free_c_string>>;

static_assert(sizeof(long) == sizeof(int64_t), "jwt_add_grant_int takes a long");

constexpr size_t kMinSecretBytes = 32;
constexpr size_t kHs256SignatureChars = 43;  // base64url of 32 bytes, no padding
constexpr size_t kJtiBytes = 16;
constexpr size_t kRandomTokenBytes = 32;
// Timestamps beyond 9999-12-31 are nonsense; the bound also keeps `exp + leeway` from
// overflowing.
constexpr int64_t kMaxTimestamp = 253402300799;
// A leeway above an hour is a misconfiguration; refusing every token then fails closed.
constexpr int64_t kMaxLeeway = 3600;

// ---------------------------------------------------------------------------------------------
// Encoding helpers (libsodium).

std::string b64url(const unsigned char* bin, size_t len) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(len, kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), bin, len, kVariant);
    out.resize(std::strlen(out.c_str()));
    return out;
}

// Strict: refuses padding, characters outside the alphabet and non-zero trailing bits, so that
// each byte string has exactly one accepted encoding.
std::optional<std::string> b64url_decode(std::string_view text) {
    std::string bin(text.size() * 3 / 4 + 1, '\0');
    size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), text.data(),
                          text.size(), nullptr, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text.data() + text.size()) {
        return std::nullopt;
    }
    bin.resize(len);
    return bin;
}

std::string random_b64url(size_t nbytes) {
    unsigned char buf[kRandomTokenBytes];
    if (nbytes > sizeof buf) throw std::invalid_argument("random_b64url: too many bytes");
    randombytes_buf(buf, nbytes);
    std::string out = b64url(buf, nbytes);
    sodium_memzero(buf, sizeof buf);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Checks on the raw token, before libjwt sees it.

struct Segments {
    std::string_view header, payload, signature;
};

bool is_b64url_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

// Exactly three non-empty base64url segments. Besides refusing junk early, this matters for
// correctness: libjwt strdup()s the token, so an embedded NUL would make it verify a prefix.
std::optional<Segments> split_token(std::string_view token) {
    if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
    size_t dots = 0;
    for (char c : token) {
        if (c == '.') {
            ++dots;
        } else if (!is_b64url_char(c)) {
            return std::nullopt;
        }
    }
    if (dots != 2) return std::nullopt;
    const size_t d1 = token.find('.');
    const size_t d2 = token.find('.', d1 + 1);
    Segments s{token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
    if (s.header.empty() || s.payload.empty() || s.signature.size() != kHs256SignatureChars) {
        return std::nullopt;
    }
    return s;
}

// Parses a whole JSON text with cJSON, refusing trailing bytes and embedded NULs.
JsonPtr parse_whole_json(std::string_view text) {
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) return nullptr;
    const std::string copy(text);
    const char* end = nullptr;
    // The length includes the terminating NUL: only then does require_null_terminated work.
    return JsonPtr(cJSON_ParseWithLengthOpts(copy.c_str(), copy.size() + 1, &end, 1));
}

// Our own reading of the header, independent of libjwt and jansson: exactly one "alg", equal
// to "HS256" (libjwt compares alg names case-insensitively and jansson keeps the last of two
// "alg" keys), and no "crit" (we understand no extension). kid/jku/x5u/jwk are never read:
// there is one key and it comes from the configuration.
bool own_header_ok(std::string_view b64_header) {
    const auto text = b64url_decode(b64_header);
    if (!text) return false;
    const JsonPtr header = parse_whole_json(*text);
    if (!cJSON_IsObject(header.get())) return false;
    int algs = 0;
    for (const cJSON* item = header->child; item != nullptr; item = item->next) {
        if (item->string == nullptr) return false;
        if (std::strcmp(item->string, "crit") == 0) return false;
        if (std::strcmp(item->string, "alg") == 0) {
            ++algs;
            if (!cJSON_IsString(item) || std::strcmp(item->valuestring, "HS256") != 0) {
                return false;
            }
        }
    }
    return algs == 1;
}

// ---------------------------------------------------------------------------------------------
// libjwt.

bool settings_usable(const TokenSettings& s) {
    return s.secret.size() >= kMinSecretBytes && !s.issuer.empty() && !s.audience.empty() &&
           s.leeway_s >= 0 && s.leeway_s <= kMaxLeeway;
}

// jwt_decode checks the signature with the alg named by the token, so the alg is pinned
// afterwards. An empty key is never passed: libjwt then skips the signature check.
JwtPtr decode_hs256(const TokenSettings& s, const std::string& token) {
    if (s.secret.empty()) return nullptr;
    jwt_t* raw = nullptr;
    const int rc =
        jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(s.secret.data()),
                   static_cast<int>(s.secret.size()));
    JwtPtr jwt(raw);
    if (rc != 0 || !jwt || jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return nullptr;
    return jwt;
}

// libjwt's view of the header must agree with ours: HS256 and no crit.
bool lib_header_ok(jwt_t* jwt) {
    if (JwtTextPtr crit{jwt_get_headers_json(jwt, "crit")}) return false;
    const JwtTextPtr alg{jwt_get_headers_json(jwt, "alg")};
    return alg && std::strcmp(alg.get(), "\"HS256\"") == 0;
}

// ---------------------------------------------------------------------------------------------
// Claims. The JSON comes from jansson (libjwt's parser) re-serialized, so duplicates are
// already resolved and cJSON sees exactly what libjwt saw.

// A JSON integer, not a float, string or bool. cJSON keeps only a double, so integer-ness is
// read from jansson's serialization of that one claim, where a real always has '.' or 'e'.
std::optional<int64_t> int_claim(jwt_t* jwt, const cJSON* claims, const char* name) {
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(claims, name))) return std::nullopt;
    const JwtTextPtr text{jwt_get_grants_json(jwt, name)};
    if (!text) return std::nullopt;
    const std::string_view digits(text.get());
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

std::optional<int64_t> time_claim(jwt_t* jwt, const cJSON* claims, const char* name) {
    const auto t = int_claim(jwt, claims, name);
    if (!t || *t < 0 || *t > kMaxTimestamp) return std::nullopt;
    return t;
}

const char* string_claim(const cJSON* claims, const char* name) {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(claims, name);
    return cJSON_IsString(item) ? item->valuestring : nullptr;
}

bool string_claim_is(const cJSON* claims, const char* name, const std::string& expected) {
    const char* value = string_claim(claims, name);
    return value != nullptr && expected == value;
}

// RFC 7519 §4.1.3: "aud" is a string or an array of strings; ours must be among them.
bool audience_ok(const cJSON* claims, const std::string& audience) {
    const cJSON* aud = cJSON_GetObjectItemCaseSensitive(claims, "aud");
    if (cJSON_IsString(aud)) return audience == aud->valuestring;
    if (!cJSON_IsArray(aud)) return false;
    bool found = false;
    for (const cJSON* item = aud->child; item != nullptr; item = item->next) {
        if (!cJSON_IsString(item)) return false;
        found = found || audience == item->valuestring;
    }
    return found;
}

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// 8-4-4-4-12 lower-case hex, the form PostgreSQL prints: ids are compared as text elsewhere.
bool is_canonical_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_here ? s[i] != '-' : !is_lower_hex(s[i])) return false;
    }
    return true;
}

// exp is required (RFC 8725 §3.10 lets us demand it); nbf is optional; iat is required because
// sessions are cut off by comparing it with the user's tokens_valid_after.
bool times_ok(jwt_t* jwt, const cJSON* claims, int64_t leeway, int64_t now, AccessClaims& out) {
    const auto exp = time_claim(jwt, claims, "exp");
    const auto iat = time_claim(jwt, claims, "iat");
    if (!exp || !iat) return false;
    if (!(now < *exp + leeway) || *iat - leeway > now) return false;
    if (cJSON_GetObjectItemCaseSensitive(claims, "nbf") != nullptr) {
        const auto nbf = time_claim(jwt, claims, "nbf");
        if (!nbf || *nbf - leeway > now) return false;
    }
    out.expires_at = *exp;
    out.issued_at = *iat;
    return true;
}

std::optional<AccessClaims> read_claims(const TokenSettings& s, jwt_t* jwt, int64_t now) {
    const JwtTextPtr text{jwt_get_grants_json(jwt, nullptr)};
    // jansson already refuses \u0000; kept so that no claim can ever be silently truncated.
    if (!text || std::strstr(text.get(), "\\u0000") != nullptr) return std::nullopt;
    const JsonPtr claims = parse_whole_json(text.get());
    if (!cJSON_IsObject(claims.get())) return std::nullopt;
    const cJSON* c = claims.get();

    AccessClaims out{};
    if (!times_ok(jwt, c, s.leeway_s, now, out)) return std::nullopt;
    if (!string_claim_is(c, "iss", s.issuer) || !audience_ok(c, s.audience)) return std::nullopt;
    // Explicit typing (RFC 8725 §3.11/3.12): no other kind of token is ever an access token.
    if (!string_claim_is(c, "tt", "access")) return std::nullopt;
    const char* sub = string_claim(c, "sub");
    if (sub == nullptr || !is_canonical_uuid(sub)) return std::nullopt;
    const auto tv = int_claim(jwt, c, "tv");
    if (!tv || *tv < 0) return std::nullopt;
    out.user_id = sub;
    out.token_version = *tv;
    return out;
}

// ---------------------------------------------------------------------------------------------
// Minting.

void check(int rc, const char* what) {
    if (rc != 0) throw std::runtime_error(std::string("jwt: ") + what + " failed");
}

void add_string(jwt_t* jwt, const char* name, const std::string& value) {
    check(jwt_add_grant(jwt, name, value.c_str()), name);
}

void add_int(jwt_t* jwt, const char* name, int64_t value) {
    check(jwt_add_grant_int(jwt, name, static_cast<long>(value)), name);
}

// Refuses what verify would refuse anyway, so that a bad setting or id fails loudly at login
// instead of yielding tokens that are all rejected.
void check_issue_inputs(const TokenSettings& s, std::string_view user_id, int64_t token_version,
                        int64_t now) {
    if (!settings_usable(s)) throw std::invalid_argument("token settings are not usable");
    if (!is_canonical_uuid(user_id)) throw std::invalid_argument("user id is not a UUID");
    if (token_version < 0) throw std::invalid_argument("token version is negative");
    if (s.access_ttl_s <= 0 || now < 0 || now > kMaxTimestamp - s.access_ttl_s) {
        throw std::invalid_argument("token lifetime out of range");
    }
}

}  // namespace

std::string issue_access_token(const TokenSettings& s, std::string_view user_id,
                               int64_t token_version, int64_t now) {
    check_issue_inputs(s, user_id, token_version, now);
    jwt_t* raw = nullptr;
    check(jwt_new(&raw), "jwt_new");
    const JwtPtr jwt(raw);
    add_string(jwt.get(), "iss", s.issuer);
    add_string(jwt.get(), "aud", s.audience);
    add_string(jwt.get(), "sub", std::string(user_id));
    add_string(jwt.get(), "tt", "access");
    add_string(jwt.get(), "jti", random_b64url(kJtiBytes));
    add_int(jwt.get(), "iat", now);
    add_int(jwt.get(), "nbf", now);
    add_int(jwt.get(), "exp", now + s.access_ttl_s);
    add_int(jwt.get(), "tv", token_version);
    check(jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                      reinterpret_cast<const unsigned char*>(s.secret.data()),
                      static_cast<int>(s.secret.size())),
          "jwt_set_alg");
    const JwtTextPtr token{jwt_encode_str(jwt.get())};
    if (!token) throw std::runtime_error("jwt: jwt_encode_str failed");
    return token.get();
}

std::optional<AccessClaims> verify_access_token(const TokenSettings& s, std::string_view token,
                                                int64_t now) {
    try {
        if (!settings_usable(s)) return std::nullopt;
        const auto segments = split_token(token);
        if (!segments || !own_header_ok(segments->header)) return std::nullopt;
        const JwtPtr jwt = decode_hs256(s, std::string(token));
        if (!jwt || !lib_header_ok(jwt.get())) return std::nullopt;
        return read_claims(s, jwt.get(), now);
    } catch (...) {
        // Only allocation can throw above; a request that cannot allocate is not authenticated.
        return std::nullopt;
    }
}

std::string new_refresh_token() {
    return random_b64url(kRandomTokenBytes);
}

std::string random_token() {
    return random_b64url(kRandomTokenBytes);
}

std::string token_hash(std::string_view token) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

}  // namespace core
