// migrate, check-config and user: what an operator runs by hand.
#include "cli/commands.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "core/passwords.h"
#include "db/admins.h"
#include "db/migrate.h"
#include "db/refresh_tokens.h"
#include "db/users.h"

namespace cli {
namespace {

db::Db connect(const core::Config& cfg) {
    return db::Db(db::DbSettings{cfg.db_url, "cli-" + std::to_string(getpid()),
                                 cfg.db_connect_timeout_s, 600000});
}

std::string read_password() {
    if (const char* p = std::getenv("ROSTRUM_PASSWORD")) return p;
    if (isatty(STDIN_FILENO)) std::cerr << "password: ";
    std::string line;
    std::getline(std::cin, line);
    return line;
}

int set_flags(db::Db& db, const std::string& email, const db::UserChanges& c) {
    auto u = db::find_user_by_email(db, email);
    if (!u) {
        std::cerr << "rostrum: no user " << email << "\n";
        return 1;
    }
    db::Tx tx(db);
    // The API's rule (db/admins.h), in the same transaction as the change it guards.
    if (db::removes_an_admin(c) && db::is_last_active_admin(db, u->id)) {
        std::cerr << "rostrum: " << email << ": " << db::kLastAdminMessage
                  << " (promote another user first)\n";
        return 1;
    }
    db::update_user(db, u->id, c);
    if (c.is_active && !*c.is_active) db::revoke_all_for_user(db, u->id);
    tx.commit();
    std::cout << "updated " << email << "\n";
    return 0;
}

}  // namespace

int migrate_command(const core::Config& cfg) {
    db::Db db = connect(cfg);
    auto applied = db::migrate(db, db::Roles{cfg.db_owner_role, cfg.db_app_role});
    for (const auto& name : applied) std::cout << "applied " << name << "\n";
    std::cout << "schema at version " << db::applied_version(db) << "\n";
    return 0;
}

int check_config_command(const core::Config& cfg) {
    std::cout << core::describe_config(cfg);
    return 0;
}

int user_command(const core::Config& cfg, int argc, char** argv) {
    std::string sub = argc > 0 ? argv[0] : "";
    core::init_crypto();
    db::Db db = connect(cfg);
    if (sub == "create-admin" && argc == 3) {
        std::string password = read_password();
        if (auto problem = core::password_policy_problem(password)) {
            std::cerr << "rostrum: password " << *problem << "\n";
            return 1;
        }
        std::string email = argv[1];
        for (char& ch : email) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        db::User u = db::insert_user(db, email, argv[2], core::hash_password(password), "admin");
        std::cout << "created admin " << u.email << " (" << u.id << ")\n";
        return 0;
    }
    if (argc == 2) {
        db::UserChanges c;
        if (sub == "promote") c.role = "admin";
        if (sub == "demote") c.role = "member";
        if (sub == "deactivate") c.is_active = false;
        if (sub == "activate") c.is_active = true;
        if (c.role || c.is_active) return set_flags(db, argv[1], c);
    }
    std::cerr << "usage: rostrum user create-admin EMAIL NAME | promote|demote|deactivate|"
                 "activate EMAIL\n";
    return 2;
}

}  // namespace cli
