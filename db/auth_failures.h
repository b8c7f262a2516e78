// The per-account back-off on failed password checks (login, OAuth2 token, PATCH /auth/me):
// after `free` failures each further one doubles the wait, up to `max_s`; a success resets the
// counter. Every attempt is charged before its password is checked, in one statement, so
// parallel guesses cannot slip past the count; a blocked attempt is refused without a check.
#pragma once

#include <string>

#include "db/pg.h"

namespace db {

struct BackoffPolicy {
    int free = 5;     // failures before any wait (auth.failures_free)
    int max_s = 300;  // the longest wait (auth.backoff_max_s)
};

// The counter an attempt for `email` from `source` (an address, IPv6 as its /64) uses: the
// source's own when the account logged in from it before, else the account-wide one ("").
std::string backoff_scope(Db& db, const std::string& email, const std::string& source);

// Charges one attempt against the counter. Returns 0 when the attempt may go ahead, else the
// seconds until it may (nothing charged).
int charge_auth_attempt(Db& db, const std::string& email, const std::string& scope,
                        const BackoffPolicy& p);

// A correct password: the counter starts again, and the address becomes one the account knows.
void auth_succeeded(Db& db, const std::string& email, const std::string& scope,
                    const std::string& user_id, const std::string& source);

// Counters untouched for a day are forgotten (the worker's sweep). Returns how many.
int64_t prune_auth_failures(Db& db);

}  // namespace db
