// User queries and refresh token families against a real PostgreSQL.
#include "db/users.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "db/refresh_tokens.h"
#include "tests/db/test_db.h"

namespace {

class Users : public testdb::DbTest {};

TEST_F(Users, FirstAccountIsAdminLaterMembers) {
    db::User a = db::insert_user(db(), "a@x.io", "A", "h", "");
    db::User b = db::insert_user(db(), "b@x.io", "B", "h", "");
    EXPECT_EQ(a.role, "admin");
    EXPECT_EQ(b.role, "member");
    EXPECT_EQ(a.created_at.size(), 20u);  // 2026-11-23T10:15:00Z
    EXPECT_EQ(a.created_at.back(), 'Z');
}

TEST_F(Users, ConcurrentFirstRegistrationsMakeOneAdmin) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([i] {
            db::Db d(settings());
            db::insert_user(d, "u" + std::to_string(i) + "@x.io", "U", "h", "");
        });
    }
    for (auto& t : threads) t.join();
    static constexpr db::Statement kAdmins{"t_count_admins",
                                           "SELECT count(*) FROM users WHERE role = 'admin'"};
    EXPECT_EQ(db().exec(kAdmins).scalar_i64(), 1);
}

TEST_F(Users, DuplicateEmailIsUniqueViolationOnNamedConstraint) {
    db::insert_user(db(), "a@x.io", "A", "h", "");
    try {
        db::insert_user(db(), "a@x.io", "A2", "h", "");
        FAIL() << "expected DbError";
    } catch (const db::DbError& e) {
        EXPECT_EQ(e.sqlstate, "23505");
        EXPECT_EQ(e.constraint, "users_email_key");
    }
}

TEST_F(Users, UpperCaseEmailViolatesCheck) {
    EXPECT_THROW(db::insert_user(db(), "A@x.io", "A", "h", ""), db::DbError);
}

TEST_F(Users, RoleAndActiveChangesBumpTokenVersion) {
    db::User a = db::insert_user(db(), "a@x.io", "A", "h", "");
    db::UserChanges name_only;
    name_only.name = "Alice";
    EXPECT_EQ(db::update_user(db(), a.id, name_only)->token_version, a.token_version);
    db::UserChanges deactivate;
    deactivate.is_active = false;
    auto u = db::update_user(db(), a.id, deactivate);
    EXPECT_EQ(u->token_version, a.token_version + 1);
    EXPECT_FALSE(u->is_active);
    EXPECT_FALSE(db::update_user(db(), "00000000-0000-4000-8000-000000000000", name_only));
}

TEST_F(Users, KeysetPagingVisitsEveryUserOnce) {
    for (int i = 0; i < 7; ++i)
        db::insert_user(db(), "p" + std::to_string(i) + "@x.io", "P", "h", "");
    std::set<std::string> seen;
    std::optional<std::string> key, id;
    for (int page = 0; page < 10; ++page) {
        auto rows = db::list_users(db(), 3, key, id);
        for (const auto& u : rows) EXPECT_TRUE(seen.insert(u.id).second);
        if (rows.size() < 3) break;
        key = rows.back().cursor_key;
        id = rows.back().id;
    }
    EXPECT_EQ(seen.size(), 7u);
}

class RefreshTokens : public testdb::DbTest {};

TEST_F(RefreshTokens, RotateOnceThenReuseRevokesFamily) {
    db::User a = db::insert_user(db(), "a@x.io", "A", "h", "");
    db::insert_refresh_token(db(), a.id, "", "hash1", 3600);
    db::Rotation rot;
    EXPECT_EQ(db::rotate_refresh_token(db(), "hash1", "hash2", 3600, rot),
              db::RotateOutcome::rotated);
    EXPECT_EQ(rot.user_id, a.id);
    // Spent token presented again: reuse, and the successor dies with the family.
    EXPECT_EQ(db::rotate_refresh_token(db(), "hash1", "hash3", 3600, rot),
              db::RotateOutcome::reused);
    EXPECT_EQ(db::rotate_refresh_token(db(), "hash2", "hash4", 3600, rot),
              db::RotateOutcome::invalid);
    EXPECT_EQ(db::rotate_refresh_token(db(), "unknown", "hash5", 3600, rot),
              db::RotateOutcome::invalid);
}

TEST_F(RefreshTokens, ConcurrentRotationsHaveOneWinner) {
    db::User a = db::insert_user(db(), "a@x.io", "A", "h", "");
    db::insert_refresh_token(db(), a.id, "", "race", 3600);
    std::atomic<int> wins{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 12; ++i) {
        threads.emplace_back([&, i] {
            db::Db d(settings());
            db::Rotation rot;
            if (db::rotate_refresh_token(d, "race", "next" + std::to_string(i), 3600, rot) ==
                db::RotateOutcome::rotated)
                ++wins;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1);
}

TEST_F(RefreshTokens, InactiveUserCannotRotate) {
    db::User a = db::insert_user(db(), "a@x.io", "A", "h", "");
    db::insert_refresh_token(db(), a.id, "", "t1", 3600);
    db::UserChanges off;
    off.is_active = false;
    db::update_user(db(), a.id, off);
    db::Rotation rot;
    EXPECT_EQ(db::rotate_refresh_token(db(), "t1", "t2", 3600, rot), db::RotateOutcome::invalid);
}

TEST_F(RefreshTokens, LogoutRevokesFamily) {
    db::User a = db::insert_user(db(), "a@x.io", "A", "h", "");
    db::insert_refresh_token(db(), a.id, "", "l1", 3600);
    EXPECT_TRUE(db::revoke_family_of(db(), "l1"));
    db::Rotation rot;
    EXPECT_EQ(db::rotate_refresh_token(db(), "l1", "l2", 3600, rot), db::RotateOutcome::invalid);
    EXPECT_FALSE(db::revoke_family_of(db(), "nope"));
}

}  // namespace
