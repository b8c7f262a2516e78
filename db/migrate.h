// Migrations: the numbered files of sql/migrations (compiled into the binary), applied in
// order under an advisory lock, each in its own transaction as the owner role, recorded in
// schema_migrations.
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

// Who owns the schema and who the daemons log in as (db.owner_role, db.app_role).
struct Roles {
    std::string owner = "rostrum_owner";
    std::string app = "rostrum_app";
};

// Applies what is missing; returns the names applied (empty when up to date). First creates
// the two roles if the session may (superuser or CREATEROLE), and as a superuser hands the
// public schema and every object in it to the owner. Every migration runs with SET LOCAL ROLE
// owner, so the owner owns what it creates; migrations read the role names from the settings
// rostrum.owner_role and rostrum.app_role. Throws std::runtime_error when a role is missing
// and cannot be created, or when the application role is privileged.
std::vector<std::string> migrate(Db& db, const Roles& roles = {});

// The highest applied version, or 0 on an empty database.
int applied_version(Db& db);
inline int latest_version() {
    const auto& m = embedded_migrations();
    return m.empty() ? 0 : m.back().version;
}

}  // namespace db
