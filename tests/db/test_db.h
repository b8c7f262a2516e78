// A fresh database per test binary in the throwaway cluster (ROSTRUM_TEST_PG, set by ctest's
// pg fixture), migrated from empty; tables truncated between tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "db/migrate.h"
#include "db/pg.h"

namespace testdb {

inline std::string cluster_socket_dir() {
    const char* pg = std::getenv("ROSTRUM_TEST_PG");
    return std::string(pg ? pg : "/tmp/rostrum-test-pg") + "/run";
}

inline db::DbSettings settings_for(const std::string& dbname) {
    return db::DbSettings{"host=" + cluster_socket_dir() + " dbname=" + dbname, "dbtest", 3, 30000};
}

// Creates the database on construction and drops it on destruction.
class TempDatabase {
  public:
    TempDatabase() {
        std::random_device rd;
        name_ = "t_db_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 100000);
        admin_.exec_script("CREATE DATABASE " + name_ + " TEMPLATE template0");
    }
    ~TempDatabase() {
        try {
            admin_.exec_script("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {
        }
    }
    const std::string& name() const { return name_; }
    db::DbSettings settings() const { return settings_for(name_); }

  private:
    db::Db admin_{settings_for("postgres")};
    std::string name_;
};

// Per test binary: one migrated database; every test starts with empty tables.
class DbTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        temp_ = std::make_unique<TempDatabase>();
        db::Db d(temp_->settings());
        db::migrate(d);
    }
    static void TearDownTestSuite() { temp_.reset(); }
    void SetUp() override {
        db_ = std::make_unique<db::Db>(temp_->settings());
        db_->exec_script("TRUNCATE users, refresh_tokens CASCADE");
    }
    db::Db& db() { return *db_; }
    static db::DbSettings settings() { return temp_->settings(); }

    static inline std::unique_ptr<TempDatabase> temp_;
    std::unique_ptr<db::Db> db_;
};

}  // namespace testdb
