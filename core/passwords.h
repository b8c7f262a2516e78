// Password hashing with libsodium's argon2id (crypto_pwhash_str), and the password policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Calls sodium_init(); must run once per process before anything below (idempotent).
void init_crypto();

// argon2id, opslimit/memlimit INTERACTIVE (t=2, m=64 MiB, p=1: above OWASP's 19 MiB/t=2).
// Byte-exact: the password is hashed as given, never truncated.
std::string hash_password(std::string_view password);
bool verify_password(const std::string& stored_hash, std::string_view password);
bool password_needs_rehash(const std::string& stored_hash);
// Does the same argon2 work as verify_password against a fixed dummy hash, so that an unknown
// email costs as much time as a wrong password: one argon2 run, in every process and mode.
void verify_dummy_password(std::string_view password);
// That hash: a constant of the binary, made with the current limits (never computed at run time).
std::string_view dummy_password_hash();
// How many argon2 computations (hashes and verifies) this process has run.
uint64_t argon2_runs();

// The registration policy: 8–256 code points of valid UTF-8, not one of the common passwords.
// Returns the reason the password is refused, or nullopt when it is acceptable.
std::optional<std::string> password_policy_problem(std::string_view password);

}  // namespace core
