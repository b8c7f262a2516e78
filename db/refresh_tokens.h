// Refresh token families: issue, rotate exactly once, revoke.
#pragma once

#include <optional>
#include <string>

#include "db/pg.h"

namespace db {

// Stores the hash of a new refresh token. family_id empty starts a new family (a login).
void insert_refresh_token(Db& db, const std::string& user_id, const std::string& family_id,
                          const std::string& token_hash, int ttl_s);

struct Rotation {
    std::string user_id;
    std::string family_id;
};

enum class RotateOutcome { rotated, reused, invalid };

// Spends the token with this hash and records its successor, in one transaction. Exactly one
// of any number of concurrent calls with the same token wins (the row lock serialises them and
// the loser re-reads revoked_at). A token that was already spent by rotation is a reuse: its
// whole family is revoked. Expired, logged-out, unknown tokens and inactive users are invalid.
RotateOutcome rotate_refresh_token(Db& db, const std::string& token_hash,
                                   const std::string& new_hash, int ttl_s, Rotation& out);

// Revokes the family of this token (logout). Returns false when the token is unknown.
bool revoke_family_of(Db& db, const std::string& token_hash);
// Revokes every refresh token of a user (password change, deactivation).
void revoke_all_for_user(Db& db, const std::string& user_id);

}  // namespace db
