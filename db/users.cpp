// Queries on users; SQL text at the top, one function per statement.
#include "db/users.h"

namespace db {
namespace {

// Rows are read by column name (user_from), so a statement returns only what it needs. The
// aliases shadow the table's columns in ORDER BY: order by users.created_at, not the text.
#define USER_PUBLIC                                                                         \
    "id, email, name, role, is_active, token_version, api_time(created_at) AS created_at, " \
    "api_time(updated_at) AS updated_at"
#define USER_COLUMNS    \
    USER_PUBLIC         \
    ", password_hash, " \
    "(extract(epoch from created_at) * 1000000)::bigint AS cursor_key"

// The auth check's query: no password hash (it is never needed there), no cursor.
constexpr Statement kFindUserAuth{"find_user_auth",
                                  "SELECT " USER_PUBLIC " FROM users WHERE id = $1", kIdempotent};
constexpr Statement kFindUser{"find_user", "SELECT " USER_COLUMNS " FROM users WHERE id = $1",
                              kIdempotent};
constexpr Statement kFindUserByEmail{
    "find_user_by_email", "SELECT " USER_COLUMNS " FROM users WHERE email = $1", kIdempotent};
constexpr Statement kLockRegistration{"lock_registration",
                                      "SELECT pg_advisory_xact_lock(x'726567'::bigint)"};
constexpr Statement kInsertUser{"insert_user", R"sql(
    INSERT INTO users (email, name, password_hash, role)
    VALUES ($1, $2, $3, coalesce($4, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member'
                                          ELSE 'admin' END))
    RETURNING )sql" USER_COLUMNS};
constexpr Statement kListUsers{"list_users", "SELECT " USER_COLUMNS R"sql( FROM users
    WHERE $2::bigint IS NULL
       OR ((extract(epoch from created_at) * 1000000)::bigint, id) < ($2::bigint, $3::uuid)
    ORDER BY users.created_at DESC, users.id DESC LIMIT $1)sql",
                               kIdempotent};
constexpr Statement kUpdateUser{"update_user", R"sql(
    UPDATE users SET
        name = coalesce($2, name),
        role = coalesce($3, role),
        is_active = coalesce($4::boolean, is_active),
        password_hash = coalesce($5, password_hash),
        token_version = token_version + CASE
            WHEN ($3 IS NOT NULL AND $3 <> role) OR ($4::boolean IS NOT NULL AND $4::boolean <> is_active)
              OR $5 IS NOT NULL THEN 1 ELSE 0 END,
        updated_at = now()
    WHERE id = $1
    RETURNING )sql" USER_COLUMNS};
constexpr Statement kSetPasswordHash{"set_password_hash",
                                     "UPDATE users SET password_hash = $2 WHERE id = $1"};
// First the user's pending jobs: a worker's transaction locks its job row before its session's
// (see kDeleteSession in db/sessions.cpp) and the cascade would lock the other way; holding the
// jobs first lets an in-flight worker transaction finish, and no new one starts on them.
constexpr Statement kLockUserJobs{"lock_user_jobs", R"sql(
    SELECT id FROM jobs WHERE user_id = $1 AND status IN ('queued', 'running')
    ORDER BY id FOR UPDATE)sql"};
// Then the user: an upload committing a session for it waits (its foreign key check needs the
// row) and then fails, so the list of audio files below is complete.
constexpr Statement kLockUser{"lock_user", "SELECT id FROM users WHERE id = $1 FOR UPDATE"};
constexpr Statement kUserAudioPaths{"user_audio_paths",
                                    "SELECT audio_path FROM sessions WHERE user_id = $1"};
constexpr Statement kDeleteUser{"delete_user", "DELETE FROM users WHERE id = $1"};
// In id order, so that two guards running at once never deadlock; a row changed meanwhile is
// re-checked against the WHERE after its lock is granted (a demoted admin drops out). NO KEY
// UPDATE is what the role and is_active UPDATEs take (so they serialise with this), and unlike
// FOR UPDATE it lets foreign key checks (a worker storing an admin's session) through.
constexpr Statement kLockActiveAdmins{"lock_active_admins", R"sql(
    SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR NO KEY UPDATE)sql"};

// password_hash and cursor_key are optional columns: the auth check does not select them.
User user_from(const Result& r, int i) {
    Row row(r, i);
    User u;
    u.id = row.str("id");
    u.email = row.str("email");
    u.name = row.str("name");
    u.role = row.str("role");
    u.is_active = row.boolean("is_active");
    u.token_version = row.i64("token_version");
    u.created_at = row.str("created_at");
    u.updated_at = row.str("updated_at");
    if (r.has_column("password_hash")) u.password_hash = row.str("password_hash");
    if (r.has_column("cursor_key")) u.cursor_key = row.str("cursor_key");
    return u;
}

std::optional<User> maybe_user(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return user_from(r, 0);
}

Param flag(const std::optional<bool>& b) {
    if (!b) return std::nullopt;
    return std::string(*b ? "true" : "false");
}

}  // namespace

std::optional<User> find_user_auth(Db& db, const std::string& id) {
    return maybe_user(db.exec(kFindUserAuth, {id}));
}

std::optional<User> find_user(Db& db, const std::string& id) {
    return maybe_user(db.exec(kFindUser, {id}));
}

std::optional<User> find_user_by_email(Db& db, const std::string& email) {
    return maybe_user(db.exec(kFindUserByEmail, {email}));
}

User insert_user(Db& db, const std::string& email, const std::string& name,
                 const std::string& password_hash, const std::string& role) {
    Tx tx(db);
    db.exec(kLockRegistration);
    Param r = role.empty() ? Param() : Param(role);
    User u = user_from(db.exec(kInsertUser, {email, name, password_hash, r}), 0);
    tx.commit();
    return u;
}

std::vector<User> list_users(Db& db, int limit, const std::optional<std::string>& before_key,
                             const std::optional<std::string>& before_id) {
    Result r = db.exec(kListUsers, {std::to_string(limit), before_key, before_id});
    std::vector<User> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(user_from(r, i));
    return out;
}

std::optional<User> update_user(Db& db, const std::string& id, const UserChanges& c) {
    return maybe_user(
        db.exec(kUpdateUser, {id, c.name, c.role, flag(c.is_active), c.password_hash}));
}

void set_password_hash(Db& db, const std::string& id, const std::string& hash) {
    db.exec(kSetPasswordHash, {id, hash});
}

std::optional<std::vector<std::string>> delete_user(Db& db, const std::string& id) {
    db.exec(kLockUserJobs, {id});
    if (db.exec(kLockUser, {id}).rows() == 0) return std::nullopt;
    Result r = db.exec(kUserAudioPaths, {id});
    std::vector<std::string> paths;
    for (int i = 0; i < r.rows(); ++i) paths.push_back(Row(r, i).str("audio_path"));
    db.exec(kDeleteUser, {id});
    return paths;
}

std::vector<std::string> lock_active_admins(Db& db) {
    Result r = db.exec(kLockActiveAdmins);
    std::vector<std::string> ids;
    for (int i = 0; i < r.rows(); ++i) ids.push_back(Row(r, i).str("id"));
    return ids;
}

}  // namespace db
