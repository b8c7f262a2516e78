// Typed queries on users.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct User {
    std::string id;
    std::string email;
    std::string name;
    std::string role;  // "admin" | "member"
    bool is_active = true;
    int64_t token_version = 0;
    std::string password_hash;
    std::string created_at;  // RFC 3339
    std::string updated_at;
    std::string cursor_key;  // created_at in microseconds since the epoch, for keyset paging
};

// The auth check's one query per request: the user without the password hash.
std::optional<User> find_user_auth(Db& db, const std::string& id);
std::optional<User> find_user(Db& db, const std::string& id);
std::optional<User> find_user_by_email(Db& db, const std::string& email);
// Inserts a user; with role empty, the first account of an empty install becomes admin and
// later ones members (decided under an advisory lock so two first registrations cannot both
// become admin). Throws DbError 23505 (users_email_key) on a duplicate email.
User insert_user(Db& db, const std::string& email, const std::string& name,
                 const std::string& password_hash, const std::string& role);

// Newest first, keyset paging: rows strictly after (before_key, before_id) when given.
std::vector<User> list_users(Db& db, int limit, const std::optional<std::string>& before_key,
                             const std::optional<std::string>& before_id);

// Fields to change; nullopt leaves a field alone.
struct UserChanges {
    std::optional<std::string> name;
    std::optional<std::string> role;
    std::optional<bool> is_active;
    std::optional<std::string> password_hash;
};
// Applies the changes; role, is_active and password changes bump token_version so that every
// token issued before stops working at once. Returns nullopt if the user does not exist.
std::optional<User> update_user(Db& db, const std::string& id, const UserChanges& c);
void set_password_hash(Db& db, const std::string& id, const std::string& hash);  // rehash only
// Deletes the user and (by cascade) its sessions, tokens and jobs, in the caller's transaction;
// returns the audio file names (under <data>/audio/) its sessions had, for the caller to remove
// once the transaction committed, or nullopt when there is no such user.
std::optional<std::vector<std::string>> delete_user(Db& db, const std::string& id);

// The last active admin may not be demoted, deactivated or deleted (nobody could manage the
// install afterwards). Locks the rows of every active admin until the caller's transaction
// ends and returns their ids: run inside the transaction that makes the change, two changes at
// once are serialised and the second sees the first.
std::vector<std::string> lock_active_admins(Db& db);

}  // namespace db
