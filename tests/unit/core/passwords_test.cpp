// argon2id hashing and the password policy (catalogue rows A23, A27, A28; ASVS 6.2.x).
#include "core/passwords.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <stdexcept>
#include <string>

namespace core {
namespace {

class PasswordsTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { init_crypto(); }
};

std::string weak_hash(std::string_view password) {
    char out[crypto_pwhash_STRBYTES];
    EXPECT_EQ(crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MIN,
                                crypto_pwhash_MEMLIMIT_MIN),
              0);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Hashing.

TEST_F(PasswordsTest, HashIsArgon2idWithInteractiveLimits) {
    const std::string hash = hash_password("correct horse battery staple");
    EXPECT_EQ(hash.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << hash;
    EXPECT_LT(hash.size(), static_cast<size_t>(crypto_pwhash_STRBYTES));
}

TEST_F(PasswordsTest, SaltMakesEveryHashDifferent) {
    EXPECT_NE(hash_password("correct horse battery staple"),
              hash_password("correct horse battery staple"));
}

TEST_F(PasswordsTest, VerifiesRightAndRefusesWrong) {
    const std::string hash = hash_password("correct horse battery staple");
    EXPECT_TRUE(verify_password(hash, "correct horse battery staple"));
    EXPECT_FALSE(verify_password(hash, "correct horse battery stapl"));
    EXPECT_FALSE(verify_password(hash, "Correct horse battery staple"));
    EXPECT_FALSE(verify_password(hash, ""));
}

// A27 / ASVS 6.2.8: verified exactly as received, never truncated or normalised.
TEST_F(PasswordsTest, SixtyFourCharactersAreComparedByteExactly) {
    const std::string pw = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
    ASSERT_EQ(pw.size(), 64u);
    std::string last_changed = pw;
    last_changed.back() = '!';
    const std::string hash = hash_password(pw);
    EXPECT_TRUE(verify_password(hash, pw));
    EXPECT_FALSE(verify_password(hash, last_changed));
    EXPECT_FALSE(verify_password(hash, pw.substr(0, 63)));
}

TEST_F(PasswordsTest, LongPasswordIsNotTruncated) {
    const std::string pw(200, 'x');
    const std::string hash = hash_password(pw);
    EXPECT_TRUE(verify_password(hash, pw));
    EXPECT_FALSE(verify_password(hash, pw.substr(0, 72)));  // bcrypt's cut
    EXPECT_FALSE(verify_password(hash, pw + "x"));
}

TEST_F(PasswordsTest, NonAsciiPasswordIsComparedByteExactly) {
    const std::string nfc =
        "p\xC3\xA4sswort-\xC3\xA9t\xC3\xA9-\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x94\x91";
    const std::string nfd =
        "pa\xCC\x88sswort-e\xCC\x81te\xCC\x81-\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x94\x91";
    const std::string hash = hash_password(nfc);
    EXPECT_TRUE(verify_password(hash, nfc));
    EXPECT_FALSE(verify_password(hash, nfd));  // same text to a human, other bytes
}

TEST_F(PasswordsTest, EmbeddedNulIsPartOfThePassword) {
    const std::string pw("secret\0suffix-of-pw", 19);
    const std::string hash = hash_password(pw);
    EXPECT_TRUE(verify_password(hash, pw));
    EXPECT_FALSE(verify_password(hash, "secret"));
}

// Hash-DoS guard: the documented behaviour at the 1024-byte cap.
TEST_F(PasswordsTest, OverlongPasswordIsRefusedWithoutHashing) {
    const std::string max(1024, 'a');
    const std::string hash = hash_password(max);
    EXPECT_TRUE(verify_password(hash, max));
    EXPECT_THROW(hash_password(std::string(1025, 'a')), std::invalid_argument);
    EXPECT_FALSE(verify_password(hash, std::string(1025, 'a')));
    EXPECT_FALSE(verify_password(hash, max + "a"));
    EXPECT_NO_THROW(verify_dummy_password(std::string(1 << 20, 'a')));
}

TEST_F(PasswordsTest, MalformedStoredHashNeverVerifies) {
    for (const std::string& stored :
         {std::string(), std::string("$argon2id$"), std::string("plaintext-password"),
          std::string(300, '$'), hash_password("x-password").substr(0, 60)}) {
        EXPECT_FALSE(verify_password(stored, "x-password")) << stored;
        EXPECT_TRUE(password_needs_rehash(stored)) << stored;
    }
}

// ---------------------------------------------------------------------------------------------
// A28: rehash when the limits rise.

TEST_F(PasswordsTest, FreshHashNeedsNoRehash) {
    EXPECT_FALSE(password_needs_rehash(hash_password("correct horse battery staple")));
}

TEST_F(PasswordsTest, WeakerHashNeedsRehashButStillVerifies) {
    const std::string weak = weak_hash("correct horse battery staple");
    EXPECT_TRUE(verify_password(weak, "correct horse battery staple"));
    EXPECT_TRUE(password_needs_rehash(weak));
}

TEST_F(PasswordsTest, Argon2iHashNeedsRehash) {
    char out[crypto_pwhash_argon2i_STRBYTES];
    ASSERT_EQ(crypto_pwhash_argon2i_str(out, "pw-of-8chars", 12, crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                        crypto_pwhash_argon2i_MEMLIMIT_MIN),
              0);
    EXPECT_TRUE(password_needs_rehash(out));
}

TEST_F(PasswordsTest, DummyVerifyRunsAndIsRepeatable) {
    EXPECT_NO_THROW(verify_dummy_password("whatever-the-attacker-sends"));
    EXPECT_NO_THROW(verify_dummy_password(""));
}

// An unknown email must cost what a wrong password costs: one argon2 run, from the very first
// request of a process (a CGI process serves only one). Run alone, the first call is the first
// of the process; a hash computed on first use would count 2 here.
TEST_F(PasswordsTest, DummyVerifyIsOneArgon2RunEvenTheFirstTime) {
    uint64_t before = argon2_runs();
    verify_dummy_password("first-request-of-a-cgi-process");
    EXPECT_EQ(argon2_runs() - before, 1u);
    before = argon2_runs();
    EXPECT_FALSE(
        verify_password("$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
                        "wp+RX5qqvMRmrzc6TYgv3dj1JZvO3PMeFsbW4AGoUZQ",
                        "a-wrong-password"));
    EXPECT_EQ(argon2_runs() - before, 1u);  // a wrong password: the same one run
}

// The dummy hash is a constant of the binary made with the limits real hashes use (so its
// verify costs the same); when the limits change this fails until it is regenerated.
TEST_F(PasswordsTest, DummyHashIsAConstantWithTheCurrentLimits) {
    std::string_view h = dummy_password_hash();
    EXPECT_EQ(h.substr(0, 10), "$argon2id$");
    EXPECT_EQ(h.data(), dummy_password_hash().data());  // the same storage: nothing computed
    EXPECT_FALSE(password_needs_rehash(std::string(h)));
    uint64_t before = argon2_runs();
    (void)dummy_password_hash();
    EXPECT_EQ(argon2_runs(), before);
}

// ---------------------------------------------------------------------------------------------
// Policy.

TEST_F(PasswordsTest, PolicyLengthIsInCodePoints) {
    EXPECT_TRUE(password_policy_problem("Zq7#pLm"));    // 7
    EXPECT_FALSE(password_policy_problem("Zq7#pLm2"));  // 8
    EXPECT_FALSE(password_policy_problem(std::string(256, 'k')));
    EXPECT_TRUE(password_policy_problem(std::string(257, 'k')));
    // 7 emoji = 28 bytes but 7 characters.
    std::string emoji;
    for (int i = 0; i < 7; ++i) emoji += "\xF0\x9F\x94\x91";
    EXPECT_TRUE(password_policy_problem(emoji));
    EXPECT_FALSE(password_policy_problem(emoji + "\xF0\x9F\x94\x91"));
    // 256 four-byte characters = 1024 bytes: the longest acceptable password.
    std::string longest;
    for (int i = 0; i < 256; ++i) longest += "\xF0\x9F\x94\x91";
    EXPECT_FALSE(password_policy_problem(longest));
    EXPECT_TRUE(password_policy_problem(longest + "\xF0\x9F\x94\x91"));
    EXPECT_TRUE(password_policy_problem(""));
}

TEST_F(PasswordsTest, PolicyRefusesInvalidUtf8) {
    for (const char* bad : {
             "abcdefgh\xC3\x28",          // bad continuation
             "abcdefgh\xC0\xAF",          // overlong '/'
             "abcdefgh\xE0\x80\xAF",      // overlong
             "abcdefgh\xED\xA0\x80",      // surrogate U+D800
             "abcdefgh\xF4\x90\x80\x80",  // above U+10FFFF
             "abcdefgh\xF5\x80\x80\x80",  //
             "abcdefgh\xE2\x82",          // truncated
             "abcdefgh\x80",              // lone continuation
             "abcdefgh\xFF",              //
         }) {
        EXPECT_TRUE(password_policy_problem(bad)) << bad;
    }
    EXPECT_FALSE(password_policy_problem("abcdefgh\xEF\xBF\xBD"));      // U+FFFD
    EXPECT_FALSE(password_policy_problem("abcdefgh\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST_F(PasswordsTest, PolicyRefusesCommonPasswordsIgnoringAsciiCase) {
    for (const char* common : {"password", "PASSWORD", "PassWord1", "12345678", "iloveyou",
                               "qwertyuiop", "trustno1", "1q2w3e4r", "Sunshine", "football"}) {
        EXPECT_TRUE(password_policy_problem(common)) << common;
    }
}

TEST_F(PasswordsTest, PolicyAcceptsAFinePassword) {
    EXPECT_EQ(password_policy_problem("correct horse battery staple"), std::nullopt);
    EXPECT_EQ(password_policy_problem("p\xC3\xA4sswort-\xE6\x97\xA5\xE6\x9C\xAC"), std::nullopt);
    EXPECT_EQ(password_policy_problem("password-but-longer-9"), std::nullopt);
}

TEST_F(PasswordsTest, PolicyMessagesSayWhatIsWrong) {
    EXPECT_NE(password_policy_problem("short")->find("at least 8"), std::string::npos);
    EXPECT_NE(password_policy_problem(std::string(300, 'k'))->find("at most 256"),
              std::string::npos);
    EXPECT_NE(password_policy_problem("password")->find("common"), std::string::npos);
    EXPECT_NE(password_policy_problem("abcdefgh\xFF")->find("UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace core
