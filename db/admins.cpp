// The last-admin rule (db/admins.h).
#include "db/admins.h"

#include <stdexcept>
#include <vector>

namespace db {

bool removes_an_admin(const UserChanges& c) {
    return (c.role && *c.role != "admin") || (c.is_active && !*c.is_active);
}

bool is_last_active_admin(Db& db, const std::string& user_id) {
    if (!db.in_transaction())
        throw std::logic_error("is_last_active_admin outside a transaction locks nothing");
    std::vector<std::string> admins = lock_active_admins(db);
    return admins.size() == 1 && admins.front() == user_id;
}

}  // namespace db
