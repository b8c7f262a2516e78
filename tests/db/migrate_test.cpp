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
    EXPECT_EQ(d.exec(kCount).i64(0, 0), static_cast<int64_t>(first.size()));
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

TEST(Migrate, VersionsAreIncreasing) {
    int last = 0;
    for (const auto& m : db::embedded_migrations()) {
        EXPECT_GT(m.version, last) << m.name;
        last = m.version;
    }
}

}  // namespace
