// Migrations: from empty, idempotent, concurrent runs serialised by the advisory lock.
#include "db/migrate.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/db/test_db.h"

namespace {

TEST(Migrate, FromEmptyThenNothingTwice) {
    testdb::TempDatabase t;
    db::Db d(t.settings());
    EXPECT_EQ(db::applied_version(d), 0);
    auto first = db::migrate(d);
    EXPECT_EQ(first.size(), db::embedded_migrations().size());
    EXPECT_EQ(db::applied_version(d), db::latest_version());
    EXPECT_TRUE(db::migrate(d).empty());
    static constexpr db::Statement kCount{"t_count_migrations",
                                          "SELECT count(*) FROM schema_migrations"};
    EXPECT_EQ(d.exec(kCount).scalar_i64(), static_cast<int64_t>(first.size()));
}

TEST(Migrate, ConcurrentRunsApplyEachOnce) {
    testdb::TempDatabase t;
    std::vector<size_t> applied(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < applied.size(); ++i) {
        threads.emplace_back([&, i] {
            db::Db d(t.settings());
            applied[i] = db::migrate(d).size();
        });
    }
    for (auto& th : threads) th.join();
    size_t total = 0;
    for (size_t n : applied) total += n;
    EXPECT_EQ(total, db::embedded_migrations().size());
}

// Everything a migration creates belongs to the owner role; the daemons' role owns nothing.
TEST(Migrate, TheOwnerRoleOwnsTheSchema) {
    testdb::TempDatabase t;
    db::Db d(t.settings());
    db::migrate(d);
    static constexpr db::Statement kOwners{"t_owners", R"sql(
        SELECT count(*) FILTER (WHERE relowner <> 'rostrum_owner'::regrole) AS foreign_owned,
               count(*) AS relations
          FROM pg_class WHERE relnamespace = 'public'::regnamespace)sql"};
    db::Result r = d.exec(kOwners);
    EXPECT_EQ(db::Row(r, 0).i64("foreign_owned"), 0);
    EXPECT_GT(db::Row(r, 0).i64("relations"), 0);
}

// The daemons' role must not be able to do more than its grants.
TEST(Migrate, RefusesAPrivilegedApplicationRole) {
    testdb::TempDatabase t;
    db::Db d(t.settings());
    static constexpr db::Statement kMe{"t_session_user", "SELECT session_user"};
    std::string superuser = d.exec(kMe).scalar_str();
    EXPECT_THROW(db::migrate(d, db::Roles{"rostrum_owner", superuser}), std::runtime_error);
    EXPECT_THROW(db::migrate(d, db::Roles{"rostrum_owner", "rostrum_owner"}), std::runtime_error);
    EXPECT_EQ(db::applied_version(d), 0);
}

TEST(Migrate, VersionsAreIncreasing) {
    int last = 0;
    for (const auto& m : db::embedded_migrations()) {
        EXPECT_GT(m.version, last) << m.name;
        last = m.version;
    }
}

}  // namespace
