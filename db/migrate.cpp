// Applies sql/migrations in order, once, under an advisory lock.
#include "db/migrate.h"

namespace db {
namespace {

// The advisory lock key x'7262737472756d' is "rostrum" in hex: it serialises concurrent
// `migrate` runs (two hosts starting at once).
constexpr Statement kCreateTable{"migrate_create_table", R"sql(
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    ))sql"};
constexpr Statement kLock{"migrate_lock", "SELECT pg_advisory_lock(x'7262737472756d'::bigint)"};
constexpr Statement kUnlock{"migrate_unlock",
                            "SELECT pg_advisory_unlock(x'7262737472756d'::bigint)"};
constexpr Statement kIsApplied{"migrate_is_applied",
                               "SELECT 1 FROM schema_migrations WHERE version = $1"};
constexpr Statement kRecord{"migrate_record",
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};
constexpr Statement kAppliedVersion{"migrate_applied_version", R"sql(
    SELECT coalesce(max(version), 0) FROM schema_migrations)sql"};
constexpr Statement kTableExists{"migrate_table_exists",
                                 "SELECT to_regclass('schema_migrations') IS NOT NULL"};

// Holds the session advisory lock for its lifetime.
class MigrationLock {
  public:
    explicit MigrationLock(Db& db) : db_(db) { db_.exec(kLock); }
    ~MigrationLock() {
        try {
            db_.exec(kUnlock);
        } catch (...) {
            // The lock dies with the session anyway.
        }
    }

  private:
    Db& db_;
};

}  // namespace

std::vector<std::string> migrate(Db& db) {
    std::vector<std::string> applied;
    MigrationLock lock(db);
    db.exec(kCreateTable);
    for (const Migration& m : embedded_migrations()) {
        std::string version = std::to_string(m.version);
        if (db.exec(kIsApplied, {version}).rows() > 0) continue;
        Tx tx(db);
        db.exec_script(std::string(m.sql));
        db.exec(kRecord, {version, std::string(m.name)});
        tx.commit();
        applied.emplace_back(m.name);
    }
    return applied;
}

int applied_version(Db& db) {
    if (!db.exec(kTableExists).boolean(0, 0)) return 0;
    return static_cast<int>(db.exec(kAppliedVersion).i64(0, 0));
}

}  // namespace db
