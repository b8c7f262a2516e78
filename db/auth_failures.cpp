// Queries on auth_failures and auth_known_sources.
#include "db/auth_failures.h"

namespace db {
namespace {

// A known address: one the account logged in from in the last 90 days.
constexpr Statement kBackoffScope{"backoff_scope", R"sql(
    SELECT CASE WHEN EXISTS (
        SELECT 1 FROM auth_known_sources k JOIN users u ON u.id = k.user_id
        WHERE u.email = $1 AND k.source = $2 AND k.seen_at > now() - interval '90 days')
    THEN $2 ELSE '' END)sql",
                                  kIdempotent};
// n is the attempt's number (a counter idle for a day starts again); from n > free the next
// attempt waits 2^(n - free - 1) s, at most max_s. A blocked row is left as it is (no RETURNING
// row): the WHERE of DO UPDATE sees it under its row lock, so two attempts never both pass.
// The attempt's number n is failures + 1 (a counter idle for a day starts again at 1); from
// n > free the next attempt waits 2^(n - free - 1) s, at most max_s. A blocked row is left as
// it is and no row returns: the DO UPDATE's WHERE is evaluated under the row lock, so two
// parallel attempts never both pass. The first attempt (a new row) never waits: free >= 1.
constexpr Statement kChargeAttempt{"charge_auth_attempt", R"sql(
    INSERT INTO auth_failures AS f (email, source, failures, blocked_until, updated_at)
    VALUES ($1, $2, 1, now(), now())
    ON CONFLICT (email, source) DO UPDATE
        SET failures = CASE WHEN f.updated_at < now() - interval '1 day' THEN 1
                            ELSE f.failures + 1 END,
            blocked_until = now() + make_interval(secs => CASE
                WHEN f.updated_at >= now() - interval '1 day' AND f.failures + 1 > $3::int
                THEN least($4::float8, power(2, least(f.failures - $3::int, 30))) ELSE 0 END),
            updated_at = now()
        WHERE f.blocked_until <= now()
    RETURNING 1)sql"};
constexpr Statement kBlockedFor{"auth_blocked_for", R"sql(
    SELECT greatest(1, ceil(extract(epoch FROM blocked_until - now())))::int
    FROM auth_failures WHERE email = $1 AND source = $2)sql",
                                kIdempotent};
constexpr Statement kClearFailures{"clear_auth_failures",
                                   "DELETE FROM auth_failures WHERE email = $1 AND source = $2",
                                   kIdempotent};
constexpr Statement kRememberSource{"remember_auth_source", R"sql(
    INSERT INTO auth_known_sources (user_id, source) VALUES ($1, $2)
    ON CONFLICT (user_id, source) DO UPDATE SET seen_at = now())sql",
                                    kIdempotent};
constexpr Statement kPruneFailures{"prune_auth_failures", R"sql(
    DELETE FROM auth_failures WHERE updated_at < now() - interval '1 day')sql"};

}  // namespace

std::string backoff_scope(Db& db, const std::string& email, const std::string& source) {
    return db.exec(kBackoffScope, {email, source}).scalar_str();
}

int charge_auth_attempt(Db& db, const std::string& email, const std::string& scope,
                        const BackoffPolicy& p) {
    if (db.exec(kChargeAttempt, {email, scope, std::to_string(p.free), std::to_string(p.max_s)})
            .rows() == 1)
        return 0;
    Result r = db.exec(kBlockedFor, {email, scope});
    return r.rows() == 1 ? static_cast<int>(r.scalar_i64()) : 1;
}

void auth_succeeded(Db& db, const std::string& email, const std::string& scope,
                    const std::string& user_id, const std::string& source) {
    db.exec(kClearFailures, {email, scope});
    if (!source.empty()) db.exec(kRememberSource, {user_id, source});
}

int64_t prune_auth_failures(Db& db) {
    return db.exec(kPruneFailures).affected();
}

}  // namespace db
