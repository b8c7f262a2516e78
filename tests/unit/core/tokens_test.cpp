// Access tokens against forged ones (catalogue rows A01–A12), refresh tokens (A22).
#include "core/tokens.h"

#include <gtest/gtest.h>
#include <jwt.h>
#include <sodium.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/passwords.h"

namespace core {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kLeeway = 30;
const char* const kUser = "0b7e6c1a-2f4d-4e8b-9a51-3c2d1e0f9a8b";

TokenSettings settings() {
    TokenSettings s;
    s.secret = "0123456789abcdef0123456789abcdef-test";
    s.issuer = "rostrum-test";
    s.audience = "rostrum-api";
    s.access_ttl_s = 900;
    s.leeway_s = kLeeway;
    return s;
}

// ---------------------------------------------------------------------------------------------
// A hand-made JWT minter, independent of the code under test, so that every forged token
// differs from a valid one in exactly the way the test names.

std::string b64url(std::string_view bin) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bin.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                      bin.size(), kVariant);
    out.resize(out.find('\0'));
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view msg) {
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(msg.data()),
                                  msg.size());
    crypto_auth_hmacsha256_final(&st, mac);
    return std::string(reinterpret_cast<char*>(mac), sizeof mac);
}

std::string hmac_sha512(std::string_view key, std::string_view msg) {
    crypto_auth_hmacsha512_state st;
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_init(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha512_update(&st, reinterpret_cast<const unsigned char*>(msg.data()),
                                  msg.size());
    crypto_auth_hmacsha512_final(&st, mac);
    return std::string(reinterpret_cast<char*>(mac), sizeof mac);
}

// name → raw JSON value; written in map order (the order does not matter to a verifier).
using Claims = std::map<std::string, std::string>;

Claims good_claims() {
    return {
        {"iss", "\"rostrum-test\""},
        {"aud", "\"rostrum-api\""},
        {"sub", std::string("\"") + kUser + "\""},
        {"iat", std::to_string(kNow - 10)},
        {"nbf", std::to_string(kNow - 10)},
        {"exp", std::to_string(kNow + 890)},
        {"jti", "\"AAAAAAAAAAAAAAAAAAAAAA\""},
        {"tt", "\"access\""},
        {"tv", "3"},
    };
}

Claims with(Claims c, const std::string& name, const std::string& raw_json) {
    c[name] = raw_json;
    return c;
}

Claims without(Claims c, const std::string& name) {
    c.erase(name);
    return c;
}

std::string to_json(const Claims& c) {
    std::string out = "{";
    for (const auto& [name, value] : c) {
        if (out.size() > 1) out += ',';
        out += "\"" + name + "\":" + value;
    }
    return out + "}";
}

const std::string kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

std::string signing_input(const std::string& header_json, const std::string& payload_json) {
    return b64url(header_json) + "." + b64url(payload_json);
}

std::string sign_hs256(const std::string& header_json, const std::string& payload_json,
                       std::string_view key = settings().secret) {
    const std::string input = signing_input(header_json, payload_json);
    return input + "." + b64url(hmac_sha256(key, input));
}

std::string sign_hs256(const Claims& c) {
    return sign_hs256(kHs256Header, to_json(c));
}

std::string signature_of(const std::string& token) {
    return token.substr(token.rfind('.') + 1);
}
std::string unsigned_part(const std::string& token) {
    return token.substr(0, token.rfind('.'));
}

class TokensTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { init_crypto(); }

    static bool accepted(std::string_view token, int64_t now = kNow) {
        return verify_access_token(settings(), token, now).has_value();
    }
};

// ---------------------------------------------------------------------------------------------
// The good path.

TEST_F(TokensTest, IssuedTokenVerifies) {
    const std::string token = issue_access_token(settings(), kUser, 7, kNow);
    const auto claims = verify_access_token(settings(), token, kNow);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->user_id, kUser);
    EXPECT_EQ(claims->token_version, 7);
    EXPECT_EQ(claims->issued_at, kNow);
    EXPECT_EQ(claims->expires_at, kNow + 900);
}

TEST_F(TokensTest, IssuedTokenCarriesEveryClaim) {
    const std::string token = issue_access_token(settings(), kUser, 0, kNow);
    jwt_t* raw = nullptr;
    ASSERT_EQ(jwt_decode(&raw, token.c_str(),
                         reinterpret_cast<const unsigned char*>(settings().secret.data()),
                         static_cast<int>(settings().secret.size())),
              0);
    std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
    EXPECT_EQ(jwt_get_alg(jwt.get()), JWT_ALG_HS256);
    EXPECT_STREQ(jwt_get_grant(jwt.get(), "iss"), "rostrum-test");
    EXPECT_STREQ(jwt_get_grant(jwt.get(), "aud"), "rostrum-api");
    EXPECT_STREQ(jwt_get_grant(jwt.get(), "sub"), kUser);
    EXPECT_STREQ(jwt_get_grant(jwt.get(), "tt"), "access");
    EXPECT_EQ(jwt_get_grant_int(jwt.get(), "iat"), kNow);
    EXPECT_EQ(jwt_get_grant_int(jwt.get(), "nbf"), kNow);
    EXPECT_EQ(jwt_get_grant_int(jwt.get(), "exp"), kNow + 900);
    EXPECT_EQ(jwt_get_grant_int(jwt.get(), "tv"), 0);
    const char* jti = jwt_get_grant(jwt.get(), "jti");
    ASSERT_NE(jti, nullptr);
    EXPECT_EQ(std::string(jti).size(), 22u);  // 16 bytes, base64url
}

TEST_F(TokensTest, TwoIssuedTokensDifferByJti) {
    EXPECT_NE(issue_access_token(settings(), kUser, 1, kNow),
              issue_access_token(settings(), kUser, 1, kNow));
}

TEST_F(TokensTest, IssueRefusesWhatVerifyWouldRefuse) {
    EXPECT_THROW(issue_access_token(settings(), "not-a-uuid", 1, kNow), std::invalid_argument);
    EXPECT_THROW(issue_access_token(settings(), "0B7E6C1A-2F4D-4E8B-9A51-3C2D1E0F9A8B", 1, kNow),
                 std::invalid_argument);
    EXPECT_THROW(issue_access_token(settings(), kUser, -1, kNow), std::invalid_argument);
    TokenSettings short_secret = settings();
    short_secret.secret = "too short";
    EXPECT_THROW(issue_access_token(short_secret, kUser, 1, kNow), std::invalid_argument);
}

// Proves the hand-made minter agrees with the verifier, so the refusals below are meaningful.
TEST_F(TokensTest, HandMintedTokenVerifies) {
    const auto claims = verify_access_token(settings(), sign_hs256(good_claims()), kNow);
    ASSERT_TRUE(claims);
    EXPECT_EQ(claims->user_id, kUser);
    EXPECT_EQ(claims->token_version, 3);
    EXPECT_EQ(claims->issued_at, kNow - 10);
    EXPECT_EQ(claims->expires_at, kNow + 890);
}

// ---------------------------------------------------------------------------------------------
// A01–A04: algorithm attacks.

TEST_F(TokensTest, AlgNoneInAnySpellingIsRefused) {
    const std::string payload = b64url(to_json(good_claims()));
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        const std::string header = b64url(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})");
        EXPECT_FALSE(accepted(header + "." + payload + ".")) << alg;
        EXPECT_FALSE(accepted(header + "." + payload)) << alg;
        // Even carrying a signature that is valid for the bytes.
        const std::string input = header + "." + payload;
        EXPECT_FALSE(accepted(input + "." + b64url(hmac_sha256(settings().secret, input)))) << alg;
    }
}

TEST_F(TokensTest, Hs512SignedWithTheRealSecretIsRefused) {
    const std::string input =
        signing_input(R"({"alg":"HS512","typ":"JWT"})", to_json(good_claims()));
    EXPECT_FALSE(accepted(input + "." + b64url(hmac_sha512(settings().secret, input))));
}

TEST_F(TokensTest, Hs384SignedWithTheRealSecretIsRefused) {
    jwt_t* raw = nullptr;
    ASSERT_EQ(jwt_new(&raw), 0);
    std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
    ASSERT_EQ(jwt_add_grants_json(jwt.get(), to_json(good_claims()).c_str()), 0);
    ASSERT_EQ(jwt_set_alg(jwt.get(), JWT_ALG_HS384,
                          reinterpret_cast<const unsigned char*>(settings().secret.data()),
                          static_cast<int>(settings().secret.size())),
              0);
    char* token = jwt_encode_str(jwt.get());
    ASSERT_NE(token, nullptr);
    const std::string text(token);
    std::free(token);
    // libjwt itself accepts it (the reason the alg is pinned), we must not.
    jwt_t* decoded = nullptr;
    ASSERT_EQ(jwt_decode(&decoded, text.c_str(),
                         reinterpret_cast<const unsigned char*>(settings().secret.data()),
                         static_cast<int>(settings().secret.size())),
              0);
    EXPECT_EQ(jwt_get_alg(decoded), JWT_ALG_HS384);
    jwt_free(decoded);
    EXPECT_FALSE(accepted(text));
}

// libjwt compares alg names case-insensitively; the pinned alg is exactly "HS256".
TEST_F(TokensTest, LowerCaseHs256NameIsRefused) {
    EXPECT_FALSE(accepted(sign_hs256(R"({"alg":"hs256","typ":"JWT"})", to_json(good_claims()))));
}

TEST_F(TokensTest, AsymmetricAlgsAreRefused) {
    const std::string payload = to_json(good_claims());
    for (const char* alg : {"RS256", "ES256", "PS256", "EdDSA"}) {
        const std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
        EXPECT_FALSE(accepted(sign_hs256(header, payload))) << alg;
    }
}

// A04: an attacker who HMACs with a public key we might hold gets nothing: the key is fixed.
TEST_F(TokensTest, KeyConfusionWithPublicPemIsRefused) {
    const std::string pem =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYWnm/eplO9BFtXszMRQNL5UtZ8HJ\n"
        "dTH2jK7vjs4XgIOLL1TjvuIhK5Tm0Kk2SdfQKcmB8PA0PeYcOWA1GmS0Hw==\n"
        "-----END PUBLIC KEY-----\n";
    EXPECT_FALSE(accepted(sign_hs256(kHs256Header, to_json(good_claims()), pem)));
}

TEST_F(TokensTest, DuplicateAlgHeaderIsRefused) {
    // jansson keeps the last "alg", so libjwt alone would verify this as HS256.
    EXPECT_FALSE(accepted(
        sign_hs256(R"({"alg":"none","alg":"HS256","typ":"JWT"})", to_json(good_claims()))));
    EXPECT_FALSE(accepted(
        sign_hs256(R"({"alg":"HS256","alg":"HS256","typ":"JWT"})", to_json(good_claims()))));
}

TEST_F(TokensTest, HeaderWithoutAlgOrNotAnObjectIsRefused) {
    EXPECT_FALSE(accepted(sign_hs256(R"({"typ":"JWT"})", to_json(good_claims()))));
    EXPECT_FALSE(accepted(sign_hs256(R"(["HS256"])", to_json(good_claims()))));
    EXPECT_FALSE(accepted(sign_hs256(R"({"alg":"HS256"}x)", to_json(good_claims()))));
    EXPECT_FALSE(accepted(sign_hs256(R"({"alg":["HS256"]})", to_json(good_claims()))));
}

TEST_F(TokensTest, OtherTypIsRefused) {
    EXPECT_FALSE(accepted(sign_hs256(R"({"alg":"HS256","typ":"at+jwt"})", to_json(good_claims()))));
}

TEST_F(TokensTest, HeaderWithoutTypIsAccepted) {
    EXPECT_TRUE(accepted(sign_hs256(R"({"alg":"HS256"})", to_json(good_claims()))));
}

// ---------------------------------------------------------------------------------------------
// A06–A07: signature attacks.

TEST_F(TokensTest, TamperedPayloadWithKeptSignatureIsRefused) {
    const std::string signature = signature_of(sign_hs256(good_claims()));
    const auto forged = [&](const Claims& c) {
        return b64url(kHs256Header) + "." + b64url(to_json(c)) + "." + signature;
    };
    EXPECT_TRUE(accepted(forged(good_claims())));  // the control: nothing changed
    EXPECT_FALSE(
        accepted(forged(with(good_claims(), "sub", "\"11111111-2222-4333-8444-555555555555\""))));
    EXPECT_FALSE(accepted(forged(with(good_claims(), "role", "\"admin\""))));
    EXPECT_FALSE(accepted(forged(with(good_claims(), "exp", std::to_string(kNow + 86400)))));
}

TEST_F(TokensTest, StrippedSignatureIsRefused) {
    const std::string good = sign_hs256(good_claims());
    EXPECT_FALSE(accepted(unsigned_part(good) + "."));
    EXPECT_FALSE(accepted(unsigned_part(good)));
}

TEST_F(TokensTest, SignatureOfAnotherTokenIsRefused) {
    const std::string a = sign_hs256(good_claims());
    const std::string b = sign_hs256(with(good_claims(), "tv", "4"));
    EXPECT_FALSE(accepted(unsigned_part(a) + "." + signature_of(b)));
}

TEST_F(TokensTest, WrongSecretIsRefused) {
    EXPECT_FALSE(accepted(
        sign_hs256(kHs256Header, to_json(good_claims()), "another-secret-of-32-bytes-or-more!")));
    EXPECT_FALSE(accepted(sign_hs256(kHs256Header, to_json(good_claims()), "")));
}

TEST_F(TokensTest, FlippedSignatureByteIsRefused) {
    std::string token = sign_hs256(good_claims());
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(accepted(token));
}

// The last of 43 characters carries 4 payload bits and 2 zero bits; setting those must fail.
TEST_F(TokensTest, NonCanonicalSignatureEncodingIsRefused) {
    const std::string good = sign_hs256(good_claims());
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const size_t last = alphabet.find(good.back());
    ASSERT_EQ(last % 4, 0u);
    std::string token = good;
    token.back() = alphabet[last + 1];
    EXPECT_FALSE(accepted(token));
}

TEST_F(TokensTest, SettingsThatCannotVerifyRefuseEverything) {
    const std::string good = sign_hs256(good_claims());
    TokenSettings s = settings();
    s.secret.clear();
    EXPECT_FALSE(verify_access_token(s, good, kNow));
    EXPECT_FALSE(verify_access_token(s, unsigned_part(good) + ".", kNow));
    s = settings();
    s.secret.resize(31);
    EXPECT_FALSE(
        verify_access_token(s, sign_hs256(kHs256Header, to_json(good_claims()), s.secret), kNow));
    s = settings();
    s.issuer.clear();
    EXPECT_FALSE(verify_access_token(s, sign_hs256(with(good_claims(), "iss", "\"\"")), kNow));
    s = settings();
    s.leeway_s = -1;
    EXPECT_FALSE(verify_access_token(s, good, kNow));
}

// ---------------------------------------------------------------------------------------------
// A08–A09: time claims. The leeway is 30 s.

TEST_F(TokensTest, ExpiryHonoursLeeway) {
    const auto at_exp = [](int64_t exp) {
        return sign_hs256(with(good_claims(), "exp", std::to_string(exp)));
    };
    EXPECT_FALSE(accepted(at_exp(kNow - kLeeway - 1)));
    EXPECT_FALSE(accepted(at_exp(kNow - kLeeway)));  // now < exp + leeway is false
    EXPECT_TRUE(accepted(at_exp(kNow - kLeeway + 5)));
    EXPECT_TRUE(accepted(at_exp(kNow - 1)));  // expired one second ago: within the leeway
    TokenSettings strict = settings();
    strict.leeway_s = 0;
    EXPECT_FALSE(verify_access_token(strict, at_exp(kNow - 1), kNow));
    EXPECT_FALSE(verify_access_token(strict, at_exp(kNow), kNow));
    EXPECT_TRUE(verify_access_token(strict, at_exp(kNow + 1), kNow));
}

TEST_F(TokensTest, IssuedTokenExpiresAfterTtlPlusLeeway) {
    const std::string token = issue_access_token(settings(), kUser, 1, kNow);
    EXPECT_TRUE(accepted(token, kNow + 900 + kLeeway - 1));
    EXPECT_FALSE(accepted(token, kNow + 900 + kLeeway));
    EXPECT_FALSE(accepted(token, kNow - kLeeway - 1));  // nbf/iat in the future
}

TEST_F(TokensTest, NotBeforeInTheFutureBeyondLeewayIsRefused) {
    const auto at_nbf = [](int64_t nbf) {
        return sign_hs256(with(good_claims(), "nbf", std::to_string(nbf)));
    };
    EXPECT_TRUE(accepted(at_nbf(kNow + kLeeway)));
    EXPECT_FALSE(accepted(at_nbf(kNow + kLeeway + 1)));
    EXPECT_FALSE(accepted(at_nbf(kNow + 3600)));
    EXPECT_TRUE(accepted(sign_hs256(without(good_claims(), "nbf"))));
}

TEST_F(TokensTest, IssuedAtInTheFutureBeyondLeewayIsRefused) {
    const auto at_iat = [](int64_t iat) {
        return sign_hs256(with(good_claims(), "iat", std::to_string(iat)));
    };
    EXPECT_TRUE(accepted(at_iat(kNow + kLeeway)));
    EXPECT_FALSE(accepted(at_iat(kNow + kLeeway + 1)));
}

TEST_F(TokensTest, MissingExpOrIatIsRefused) {
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "exp"))));
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "iat"))));
}

TEST_F(TokensTest, TimeClaimsThatAreNotIntegersAreRefused) {
    const std::string far = std::to_string(kNow + 890);
    const std::vector<std::string> bad = {
        "\"" + far + "\"",       // string
        far + ".0",              // float with integral value
        far + ".5",              // float
        "1.7e9",                 // exponent form
        "true",                  // bool
        "null",                  //
        "[" + far + "]",         // array
        "{}",                    //
        "9223372036854775808",   // 2^63: does not fit
        "9223372036854775807",   // 2^63 - 1: beyond any sane date
        "18446744073709551616",  // 2^64
        "-1",                    //
        "1e400",                 // infinity
    };
    for (const char* name : {"exp", "iat", "nbf"}) {
        for (const std::string& value : bad) {
            // Keep exp in the future when probing iat/nbf and vice versa.
            EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), name, value))))
                << name << "=" << value;
        }
    }
}

// No overflow games: timestamps past 9999-12-31T23:59:59Z are refused outright.
TEST_F(TokensTest, TimestampsBeyondYear9999AreRefused) {
    EXPECT_TRUE(accepted(sign_hs256(with(good_claims(), "exp", "253402300799"))));
    EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "exp", "253402300800"))));
    EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "exp", "4611686018427387904"))));
}

// ---------------------------------------------------------------------------------------------
// A10: wrong issuer, audience or token type.

TEST_F(TokensTest, WrongIssuerIsRefused) {
    for (const char* iss : {"\"evil\"", "\"Rostrum-test\"", "\"rostrum-test \"",
                            "[\"rostrum-test\"]", "1", "null", "\"rostrum-test\\u0000x\""}) {
        EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "iss", iss)))) << iss;
    }
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "iss"))));
}

TEST_F(TokensTest, AudienceMustNameUs) {
    EXPECT_TRUE(accepted(sign_hs256(with(good_claims(), "aud", R"(["other","rostrum-api"])"))));
    for (const char* aud : {"\"other\"", "\"ROSTRUM-API\"", "[]", R"(["other"])",
                            R"(["rostrum-api",1])", "1", "null", "{\"aud\":\"rostrum-api\"}"}) {
        EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "aud", aud)))) << aud;
    }
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "aud"))));
}

TEST_F(TokensTest, OnlyAccessTokenTypeIsAccepted) {
    for (const char* tt : {"\"refresh\"", "\"ws\"", "\"ACCESS\"", "\"access \"", "1", "null"}) {
        EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "tt", tt)))) << tt;
    }
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "tt"))));
}

// Claim names are case-sensitive (cJSON_GetObjectItem would match "EXP").
TEST_F(TokensTest, ClaimNamesAreCaseSensitive) {
    Claims c = without(without(good_claims(), "exp"), "tt");
    c["EXP"] = std::to_string(kNow + 890);
    c["TT"] = "\"access\"";
    EXPECT_FALSE(accepted(sign_hs256(c)));
}

TEST_F(TokensTest, SubjectMustBeACanonicalUuid) {
    for (const char* sub :
         {"\"admin\"", "\"0B7E6C1A-2F4D-4E8B-9A51-3C2D1E0F9A8B\"",
          "\"{0b7e6c1a-2f4d-4e8b-9a51-3c2d1e0f9a8b}\"", "\"0b7e6c1a2f4d4e8b9a513c2d1e0f9a8b\"",
          "\"0b7e6c1a-2f4d-4e8b-9a51-3c2d1e0f9a8\"", "\"0b7e6c1a-2f4d-4e8b-9a51-3c2d1e0f9a8bb\"",
          "\"0b7e6c1a-2f4d-4e8b-9a51-3c2d1e0f9a8g\"", "\"\"", "1", "null",
          "[\"0b7e6c1a-2f4d-4e8b-9a51-3c2d1e0f9a8b\"]"}) {
        EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "sub", sub)))) << sub;
    }
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "sub"))));
}

TEST_F(TokensTest, TokenVersionMustBeANonNegativeInteger) {
    EXPECT_TRUE(accepted(sign_hs256(with(good_claims(), "tv", "0"))));
    for (const char* tv : {"-1", "\"3\"", "3.0", "true", "null", "9223372036854775808"}) {
        EXPECT_FALSE(accepted(sign_hs256(with(good_claims(), "tv", tv)))) << tv;
    }
    EXPECT_FALSE(accepted(sign_hs256(without(good_claims(), "tv"))));
}

// ---------------------------------------------------------------------------------------------
// A11–A12: header fields.

TEST_F(TokensTest, KeyReferencesAreIgnoredNotFollowed) {
    const std::string payload = to_json(good_claims());
    for (const char* field : {
             R"("kid":"../../dev/null")",
             R"("kid":"x' UNION SELECT 'k")",
             R"("jku":"http://127.0.0.1:9/jwks.json")",
             R"("x5u":"http://127.0.0.1:9/cert.pem")",
             R"("jwk":{"kty":"oct","k":""})",
         }) {
        const std::string header = std::string(R"({"alg":"HS256","typ":"JWT",)") + field + "}";
        // Signed with what the field points at (an empty key, an attacker key): refused.
        EXPECT_FALSE(accepted(sign_hs256(header, payload, ""))) << field;
        EXPECT_FALSE(accepted(sign_hs256(header, payload, "k"))) << field;
        EXPECT_FALSE(accepted(sign_hs256(header, payload, "attacker-key-0123456789abcdef0123")))
            << field;
        // Signed with our secret: the field is simply ignored.
        EXPECT_TRUE(accepted(sign_hs256(header, payload))) << field;
    }
}

TEST_F(TokensTest, CritHeaderIsRefused) {
    const std::string payload = to_json(good_claims());
    EXPECT_FALSE(
        accepted(sign_hs256(R"({"alg":"HS256","typ":"JWT","crit":["foo"],"foo":1})", payload)));
    EXPECT_FALSE(accepted(sign_hs256(R"({"alg":"HS256","crit":[]})", payload)));
    EXPECT_FALSE(accepted(sign_hs256(R"({"alg":"HS256","crit":["b64"],"b64":false})", payload)));
}

// ---------------------------------------------------------------------------------------------
// Shape of the token.

TEST_F(TokensTest, OversizedTokenIsRefusedEvenIfValid) {
    const auto padded = [](size_t n) {
        return sign_hs256(with(good_claims(), "pad", "\"" + std::string(n, 'x') + "\""));
    };
    const std::string under = padded(2700);
    ASSERT_LE(under.size(), kMaxTokenBytes);
    EXPECT_TRUE(accepted(under));
    const std::string five_kb = padded(3700);
    ASSERT_GT(five_kb.size(), 5000u);
    EXPECT_FALSE(accepted(five_kb));
    EXPECT_FALSE(accepted(std::string(2 * 1024 * 1024, 'a')));
}

TEST_F(TokensTest, WrongSegmentCountIsRefused) {
    const std::string good = sign_hs256(good_claims());
    EXPECT_FALSE(accepted(good + ".x"));
    EXPECT_FALSE(accepted(good + "."));
    EXPECT_FALSE(accepted("." + good));
    EXPECT_FALSE(accepted(good.substr(0, good.find('.'))));
    EXPECT_FALSE(accepted(""));
    EXPECT_FALSE(accepted("."));
    EXPECT_FALSE(accepted(".."));
    EXPECT_FALSE(accepted("..."));
    const std::string p = b64url(to_json(good_claims()));
    EXPECT_FALSE(accepted("." + p + "." + signature_of(good)));
}

TEST_F(TokensTest, PaddingAndForeignCharactersAreRefused) {
    const std::string good = sign_hs256(good_claims());
    EXPECT_FALSE(accepted(good + "="));
    EXPECT_FALSE(accepted(good + "=="));
    const size_t d1 = good.find('.');
    EXPECT_FALSE(accepted(good.substr(0, d1) + "=" + good.substr(d1)));
    for (const char* c : {"+", "/", " ", "\n", "\t", "%", "!", "\x80", "\xff", "\\"}) {
        std::string bad = good;
        bad.insert(d1 + 3, c);
        EXPECT_FALSE(accepted(bad)) << static_cast<int>(static_cast<unsigned char>(*c));
    }
    EXPECT_FALSE(accepted(" " + good));
    EXPECT_FALSE(accepted(good + "\n"));
    EXPECT_FALSE(accepted("Bearer " + good));
}

// libjwt reads a C string: without our check it would verify the part before the NUL.
TEST_F(TokensTest, EmbeddedNulIsRefused) {
    const std::string good = sign_hs256(good_claims());
    std::string with_nul = good;
    with_nul.push_back('\0');
    with_nul += "garbage";
    EXPECT_FALSE(accepted(with_nul));
    std::string nul_inside = good;
    nul_inside.insert(good.find('.') + 2, 1, '\0');
    EXPECT_FALSE(accepted(nul_inside));
}

TEST_F(TokensTest, PayloadThatIsNotAnObjectIsRefused) {
    for (const char* payload : {"[]", "\"x\"", "1", "null", "{", "{\"exp\":1,}", ""}) {
        EXPECT_FALSE(accepted(sign_hs256(kHs256Header, payload))) << payload;
    }
}

TEST_F(TokensTest, GarbageNeverThrows) {
    const std::string good = sign_hs256(good_claims());
    for (size_t cut = 0; cut < good.size(); ++cut) {
        EXPECT_NO_THROW(verify_access_token(settings(), good.substr(0, cut), kNow));
        EXPECT_FALSE(accepted(good.substr(0, cut)));
    }
    EXPECT_NO_THROW(verify_access_token(settings(), std::string(10'000, '.'), kNow));
    EXPECT_NO_THROW(verify_access_token(settings(), good, INT64_MAX));
    EXPECT_NO_THROW(verify_access_token(settings(), good, INT64_MIN));
    EXPECT_FALSE(accepted(good, INT64_MAX));
    EXPECT_FALSE(accepted(good, INT64_MIN));
}

// ---------------------------------------------------------------------------------------------
// A22: refresh tokens and random tokens; token_hash.

bool is_b64url_43(const std::string& t) {
    if (t.size() != 43) return false;
    for (char c : t) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
    return true;
}

TEST_F(TokensTest, RefreshTokensAre256BitBase64UrlAndUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 100'000; ++i) {
        std::string t = new_refresh_token();
        ASSERT_TRUE(is_b64url_43(t)) << t;
        ASSERT_TRUE(seen.insert(std::move(t)).second);
    }
}

TEST_F(TokensTest, RandomTokensAre256BitBase64UrlAndUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 10'000; ++i) {
        std::string t = random_token();
        ASSERT_TRUE(is_b64url_43(t)) << t;
        ASSERT_TRUE(seen.insert(std::move(t)).second);
    }
}

TEST_F(TokensTest, TokenHashIsHexSha256) {
    EXPECT_EQ(token_hash("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(token_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const std::string t = new_refresh_token();
    EXPECT_EQ(token_hash(t), token_hash(t));
    EXPECT_NE(token_hash(t), token_hash(new_refresh_token()));
    EXPECT_EQ(token_hash(std::string_view("a\0b", 3)).size(), 64u);
    EXPECT_NE(token_hash(std::string_view("a\0b", 3)), token_hash("a"));
}

}  // namespace
}  // namespace core
