// Queries on refresh_tokens.
#include "db/refresh_tokens.h"

namespace db {
namespace {

constexpr Statement kInsertRefreshToken{"insert_refresh_token", R"sql(
    INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
    VALUES ($1, coalesce($2::uuid, gen_random_uuid()), $3, now() + make_interval(secs => $4))
    RETURNING id)sql"};
// Spends the token if it is live and its user active; the successor's id is filled in later.
constexpr Statement kSpendRefreshToken{"spend_refresh_token", R"sql(
    UPDATE refresh_tokens t SET revoked_at = now()
    FROM users u
    WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
      AND u.id = t.user_id AND u.is_active
    RETURNING t.id, t.user_id, t.family_id)sql"};
constexpr Statement kLinkSuccessor{"link_refresh_successor", R"sql(
    UPDATE refresh_tokens SET replaced_by = $2 WHERE id = $1)sql"};
constexpr Statement kWasRotated{"refresh_token_was_rotated", R"sql(
    SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND replaced_by IS NOT NULL)sql"};
constexpr Statement kRevokeFamily{"revoke_refresh_family", R"sql(
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE family_id = $1 AND revoked_at IS NULL)sql"};
constexpr Statement kRevokeFamilyOf{"revoke_refresh_family_of", R"sql(
    UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now())
    WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1))sql"};
constexpr Statement kRevokeAllForUser{"revoke_refresh_for_user", R"sql(
    UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL)sql"};

}  // namespace

void insert_refresh_token(Db& db, const std::string& user_id, const std::string& family_id,
                          const std::string& token_hash, int ttl_s) {
    Param family = family_id.empty() ? Param() : Param(family_id);
    db.exec(kInsertRefreshToken, {user_id, family, token_hash, std::to_string(ttl_s)});
}

RotateOutcome rotate_refresh_token(Db& db, const std::string& token_hash,
                                   const std::string& new_hash, int ttl_s, Rotation& out) {
    {
        Tx tx(db);
        Result spent = db.exec(kSpendRefreshToken, {token_hash});
        if (spent.rows() == 1) {
            Row row(spent, 0);
            out.user_id = row.str("user_id");
            out.family_id = row.str("family_id");
            Result next = db.exec(kInsertRefreshToken,
                                  {out.user_id, out.family_id, new_hash, std::to_string(ttl_s)});
            db.exec(kLinkSuccessor, {row.str("id"), next.scalar_str()});
            tx.commit();
            return RotateOutcome::rotated;
        }
    }
    Result rotated = db.exec(kWasRotated, {token_hash});
    if (rotated.rows() == 0) return RotateOutcome::invalid;
    db.exec(kRevokeFamily, {rotated.scalar_str()});
    return RotateOutcome::reused;
}

bool revoke_family_of(Db& db, const std::string& token_hash) {
    return db.exec(kRevokeFamilyOf, {token_hash}).affected() > 0;
}

void revoke_all_for_user(Db& db, const std::string& user_id) {
    db.exec(kRevokeAllForUser, {user_id});
}

}  // namespace db
