// Connection settings from the config.
#include "db/settings.h"

#include <unistd.h>

#include <string>

namespace db {

DbSettings db_settings(const core::Config& cfg, std::string_view role) {
    return db_settings(cfg, role, cfg.db_statement_timeout_ms);
}

DbSettings db_settings(const core::Config& cfg, std::string_view role, int statement_timeout_ms) {
    core::DbLogin login = core::app_db_login(cfg);
    return DbSettings{login.conninfo, std::string(role) + "-" + std::to_string(getpid()),
                      cfg.db_connect_timeout_s, statement_timeout_ms, login.user};
}

}  // namespace db
