// Migrations: the numbered files of sql/migrations (compiled into the binary), applied in
// order under an advisory lock, each in its own transaction, recorded in schema_migrations.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db/pg.h"

namespace db {

struct Migration {
    int version;
    const char* name;
    std::string_view sql;
};

const std::vector<Migration>& embedded_migrations();

// Applies what is missing; returns the names applied (empty when up to date).
std::vector<std::string> migrate(Db& db);

// The highest applied version, or 0 on an empty database.
int applied_version(Db& db);
inline int latest_version() {
    const auto& m = embedded_migrations();
    return m.empty() ? 0 : m.back().version;
}

}  // namespace db
