// The last-admin rule, for every path that changes users (the API's PATCH and DELETE
// /users/{id}, the operator's `rostrum user demote|deactivate`): the last active admin stays an
// active admin, or nobody could manage the install afterwards.
#pragma once

#include <string>

#include "db/pg.h"
#include "db/users.h"

namespace db {

// What a refusal says, in the API's 409 and on the CLI's stderr alike.
inline constexpr const char* kLastAdminMessage = "the last active admin cannot be removed";

// Whether the change takes an admin out of the active admins (a demotion or a deactivation).
bool removes_an_admin(const UserChanges& c);

// Whether `user_id` is the only active admin, so that demoting, deactivating or deleting it
// must be refused. Locks every active admin's row until the caller's transaction ends
// (lock_active_admins): call it inside the transaction that makes the change, so that two
// changes at once are serialised and the second sees the first.
bool is_last_active_admin(Db& db, const std::string& user_id);

}  // namespace db
