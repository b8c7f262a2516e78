// Password hashing (libsodium argon2id) and the registration password policy.
#include "core/passwords.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <iterator>
#include <stdexcept>

#include "core/utf8.h"

namespace core {

namespace {

// argon2 cost grows with the input only through one BLAKE2b pass, but nothing legitimate is
// longer than the policy's 256 code points × 4 bytes; refusing more keeps a login request with a
// megabyte "password" from costing more than a normal one.
constexpr size_t kMaxPasswordBytes = 1024;
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

// The hash an unknown email is verified against: fixed in the binary (argon2id with the limits
// above, of 32 random bytes nobody kept), so that the dummy path costs exactly one argon2 run in
// every process — a CGI process serves one request, and a hash computed on first use made an
// unknown email cost two runs there (an enumeration oracle). A unit test fails when the limits
// above change without this being regenerated (crypto_pwhash_str with the new limits).
constexpr char kDummyHash[] =
    "$argon2id$v=19$m=65536,t=2,p=1$ujg/dQAHT8tWuiu7iZ4Fkw$"
    "wp+RX5qqvMRmrzc6TYgv3dj1JZvO3PMeFsbW4AGoUZQ";

std::atomic<uint64_t> g_argon2_runs{0};

constexpr size_t kMinCodePoints = 8;
constexpr size_t kMaxCodePoints = 256;

constexpr std::string_view kCommonPasswords[] = {
#include "core/common_passwords.inc"
};

constexpr bool is_lower_ascii_entry(std::string_view w) {
    return w.size() >= kMinCodePoints && std::all_of(w.begin(), w.end(), [](char c) {
               return c >= ' ' && c <= '~' && !(c >= 'A' && c <= 'Z');
           });
}
static_assert(std::all_of(std::begin(kCommonPasswords), std::end(kCommonPasswords),
                          is_lower_ascii_entry),
              "common_passwords.inc entries must be lower-case printable ASCII, 8+ chars");

// Sorted at compile time so that lookups are a binary search and the list can stay in order of
// frequency.
constexpr auto kSortedCommon = [] {
    std::array<std::string_view, std::size(kCommonPasswords)> sorted{};
    std::copy(std::begin(kCommonPasswords), std::end(kCommonPasswords), sorted.begin());
    std::sort(sorted.begin(), sorted.end());
    return sorted;
}();

bool is_common_password(std::string_view password) {
    std::string lower(password);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return std::binary_search(kSortedCommon.begin(), kSortedCommon.end(), lower);
}

// Number of code points, or nullopt when the text is not valid UTF-8.
std::optional<size_t> utf8_code_points(std::string_view s) {
    if (!valid_utf8(s)) return std::nullopt;
    return utf8_length(s);
}

}  // namespace

void init_crypto() {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
}

// Throws std::invalid_argument for a password over 1024 bytes (the policy never admits one,
// so this is a caller bug), std::runtime_error when argon2 cannot get its 64 MiB.
std::string hash_password(std::string_view password) {
    if (password.size() > kMaxPasswordBytes) {
        throw std::invalid_argument("password longer than 1024 bytes");
    }
    char out[crypto_pwhash_STRBYTES];
    g_argon2_runs.fetch_add(1, std::memory_order_relaxed);
    if (crypto_pwhash_str(out, password.data(), password.size(), kOpsLimit, kMemLimit) != 0) {
        throw std::runtime_error("crypto_pwhash_str failed (out of memory?)");
    }
    return out;
}

// False, without hashing, for a password over 1024 bytes: no stored hash can match one.
bool verify_password(const std::string& stored_hash, std::string_view password) {
    if (password.size() > kMaxPasswordBytes || stored_hash.size() >= crypto_pwhash_STRBYTES) {
        return false;
    }
    g_argon2_runs.fetch_add(1, std::memory_order_relaxed);
    return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

// A hash that libsodium cannot read (or an argon2i one) also counts as needing a rehash.
bool password_needs_rehash(const std::string& stored_hash) {
    if (stored_hash.size() >= crypto_pwhash_STRBYTES) return true;
    return crypto_pwhash_str_needs_rehash(stored_hash.c_str(), kOpsLimit, kMemLimit) != 0;
}

void verify_dummy_password(std::string_view password) {
    (void)verify_password(kDummyHash, password);
}

std::string_view dummy_password_hash() {
    return kDummyHash;
}

uint64_t argon2_runs() {
    return g_argon2_runs.load(std::memory_order_relaxed);
}

std::optional<std::string> password_policy_problem(std::string_view password) {
    if (password.size() > kMaxPasswordBytes) {
        return "password must be at most " + std::to_string(kMaxCodePoints) + " characters";
    }
    const auto length = utf8_code_points(password);
    if (!length) return "password must be valid UTF-8";
    if (*length < kMinCodePoints) {
        return "password must be at least " + std::to_string(kMinCodePoints) + " characters";
    }
    if (*length > kMaxCodePoints) {
        return "password must be at most " + std::to_string(kMaxCodePoints) + " characters";
    }
    if (is_common_password(password)) return "password is too common; choose another";
    return std::nullopt;
}

}  // namespace core
