// libFuzzer target Z03: verify_access_token; whatever it accepts must be a genuine HS256 token.
//
// Two kinds of input:
//  - anything not starting with '{' is a token, verified as is (forgeries, junk, mutations of
//    minted tokens);
//  - "<header JSON>\n<payload JSON>" is first signed with the fuzz key, so that the claim checks
//    behind the signature are fuzzed too (random bytes never carry a valid HMAC).
// An accepted token must have exactly three segments, a header whose alg is exactly "HS256",
// and a signature equal to the HMAC-SHA256 we compute with libsodium; the returned claims must
// satisfy the time rules. Any violation aborts.
#include <cjson/cJSON.h>
#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/passwords.h"
#include "core/tokens.h"

namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr char kKey[] = "fuzz-key-0123456789abcdef-fuzz!!";  // exactly 32 bytes
static_assert(sizeof kKey - 1 == crypto_auth_hmacsha256_KEYBYTES);

const core::TokenSettings& settings() {
    static const core::TokenSettings s = [] {
        core::TokenSettings t;
        t.secret = kKey;
        t.issuer = "rostrum-fuzz";
        t.audience = "rostrum-api";
        t.access_ttl_s = 900;
        t.leeway_s = 30;
        return t;
    }();
    return s;
}

[[noreturn]] void violated(const char* what, std::string_view token) {
    std::fprintf(stderr, "INVARIANT VIOLATED: %s\ntoken: %.*s\n", what,
                 static_cast<int>(token.size()), token.data());
    std::abort();
}

std::string b64url(std::string_view bin) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bin.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                      bin.size(), kVariant);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string hs256(std::string_view signing_input) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size(), reinterpret_cast<const unsigned char*>(kKey));
    return b64url(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

// "<header>\n<payload>" → a token signed with the fuzz key.
std::string sign(std::string_view input) {
    const size_t nl = input.find('\n');
    const std::string_view header = input.substr(0, nl);
    const std::string_view payload = nl == std::string_view::npos ? "" : input.substr(nl + 1);
    const std::string signing_input = b64url(header) + "." + b64url(payload);
    return signing_input + "." + hs256(signing_input);
}

bool header_alg_is_hs256(std::string_view b64_header) {
    std::string json(b64_header.size(), '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(json.data()), json.size(),
                          b64_header.data(), b64_header.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        return false;
    }
    json.resize(len);
    cJSON* header = cJSON_ParseWithLength(json.data(), json.size());
    const cJSON* alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
    const bool ok = cJSON_IsString(alg) && std::strcmp(alg->valuestring, "HS256") == 0;
    cJSON_Delete(header);
    return ok;
}

void check_accepted(std::string_view token, const core::AccessClaims& claims) {
    const size_t d1 = token.find('.');
    const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
        violated("accepted token does not have exactly three segments", token);
    }
    if (!header_alg_is_hs256(token.substr(0, d1))) violated("accepted alg is not HS256", token);
    if (hs256(token.substr(0, d2)) != token.substr(d2 + 1)) {
        violated("accepted signature is not our HMAC-SHA256", token);
    }
    const int64_t leeway = settings().leeway_s;
    if (!(kNow < claims.expires_at + leeway) || claims.issued_at - leeway > kNow) {
        violated("accepted token outside its validity window", token);
    }
    if (claims.user_id.size() != 36 || claims.token_version < 0) {
        violated("accepted claims malformed", token);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    core::init_crypto();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string token = !input.empty() && input[0] == '{' ? sign(input) : std::string(input);
    if (const auto claims = core::verify_access_token(settings(), token, kNow)) {
        check_accepted(token, *claims);
    }
    return 0;
}
