// The connection settings of every daemon's connections, derived from the config in one place.
#pragma once

#include <string_view>

#include "core/config.h"
#include "db/pg.h"

namespace db {

// As the application role (core::app_db_login: db.url alone would name the process's own user,
// which under root is the service user), with application_name "<role>-<pid>" so that tests and
// operators find a process's backend in pg_stat_activity, and db.statement_timeout_ms.
DbSettings db_settings(const core::Config& cfg, std::string_view role);
// The same with a statement timeout of the caller's own (the worker's long transactions).
DbSettings db_settings(const core::Config& cfg, std::string_view role, int statement_timeout_ms);

}  // namespace db
