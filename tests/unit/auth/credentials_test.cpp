// auth/authenticate in header values: the CSRF double-submit rule and the refusals that come
// before the user's row is read (so the database is never reached here).
#include "auth/authenticate.h"

#include <gtest/gtest.h>

#include "core/problem.h"

namespace auth {
namespace {

core::TokenSettings tokens() {
    return {"0123456789abcdef0123456789abcdef", "rostrum", "rostrum-api", 900, 30};
}

// A connection that is never opened: every case below is refused before the query.
db::Db& unused_db() {
    static db::Db db(db::DbSettings{"host=/nonexistent", "auth-test", 1, 1000});
    return db;
}

int status_of(const Credentials& c) {
    try {
        authenticate(c, unused_db(), tokens());
    } catch (const core::ApiError& e) {
        return e.status;
    }
    return 0;
}

TEST(Csrf, TheHeaderMustEqualTheCookie) {
    EXPECT_NO_THROW(require_csrf("a=1; rostrum_csrf=tok", "tok"));
    EXPECT_THROW(require_csrf("rostrum_csrf=tok", "other"), core::ApiError);
    EXPECT_THROW(require_csrf("rostrum_csrf=tok", std::nullopt), core::ApiError);
    EXPECT_THROW(require_csrf(std::nullopt, "tok"), core::ApiError);
    EXPECT_THROW(require_csrf("rostrum_csrf=", ""), core::ApiError);  // empty proves nothing
    try {
        require_csrf("rostrum_csrf=tok", "tok2");
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 403);
    }
}

TEST(Csrf, OnlyUnsafeMethodsNeedIt) {
    for (const char* m : {"GET", "HEAD", "OPTIONS"}) EXPECT_TRUE(is_safe_method(m)) << m;
    for (const char* m : {"POST", "PATCH", "PUT", "DELETE"}) EXPECT_FALSE(is_safe_method(m)) << m;
}

TEST(Authenticate, RefusesWithoutAUsableTokenBeforeAnyQuery) {
    EXPECT_EQ(status_of({"GET", std::nullopt, std::nullopt, std::nullopt}), 401);
    EXPECT_EQ(status_of({"GET", std::nullopt, "other=1", std::nullopt}), 401);
    EXPECT_EQ(status_of({"GET", "Basic dXNlcjpwdw==", std::nullopt, std::nullopt}), 401);
    EXPECT_EQ(status_of({"GET", "Bearer a b", std::nullopt, std::nullopt}), 401);
    EXPECT_EQ(status_of({"GET", "Bearer not-a-jwt", std::nullopt, std::nullopt}), 401);
    EXPECT_EQ(status_of({"POST", std::nullopt, "rostrum_access=not-a-jwt", std::nullopt}), 401);
}

}  // namespace
}  // namespace auth
