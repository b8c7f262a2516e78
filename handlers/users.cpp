// Users: admins manage everyone; a member reads, edits and deletes only itself (another
// user's id answers 404, exactly like an unknown one).
#include "db/users.h"
#include "core/passwords.h"
#include "core/problem.h"
#include "db/admins.h"
#include "db/refresh_tokens.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "handlers/uploads.h"

namespace handlers {
namespace {

// The user's bodies besides create and patch.
constexpr unsigned kRegister = kBodyA;  // POST /auth/register
constexpr unsigned kMe = kBodyB;        // PATCH /auth/me

constexpr const char* kRoles[] = {"admin", "member"};

using Rec = db::User;
// clang-format off
constexpr Field kUserFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "email", .type = Type::string, .use = kOut | kCreate | kRegister, .get = FIELD_GET(email),
     .min = 1, .max = 320, .description = "lower-cased; plain ASCII, one '@', a dotted domain",
     .required = kCreate | kRegister, .format = "email", .normalise = normalise_email_or_throw},
    {.name = "password", .type = Type::string, .use = kCreate | kRegister, .min = 1, .max = 1024,
     .description = "checked against the password policy", .required = kCreate | kRegister},
    {.name = "name", .type = Type::string, .use = kOut | kCreate | kPatch | kRegister | kMe,
     .get = FIELD_GET(name), .min = 1, .max = 100, .required = kCreate | kRegister},
    {.name = "current_password", .type = Type::string, .use = kMe, .min = 1, .max = 1 << 20,
     .description = "required with new_password"},
    {.name = "new_password", .type = Type::string, .use = kMe, .min = 1, .max = 1024,
     .description = "revokes every token of the user"},
    {.name = "role", .type = Type::enumeration, .use = kOut | kCreate | kPatch, .get = FIELD_GET(role),
     .min = 1, .max = 16, .values = kRoles, .description = "admin only", .def = "member"},
    {.name = "is_active", .type = Type::boolean, .use = kOut | kPatch, .get = FIELD_GET(is_active),
     .description = "admin only; false revokes every token of the user"},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
};
constexpr Body kUserBodies[] = {
    {kCreate, "UserCreate"}, {kPatch, "UserUpdate"}, {kRegister, "RegisterRequest"}, {kMe, "MeUpdate"},
};
// clang-format on

// The target user, if the caller may see it: admins see all, members only themselves.
db::User visible_user_or_404(Request& req, Ctx& ctx) {
    std::string id(req.path_param("id"));
    if (!req.user().is_admin() && id != req.user().id) throw core::ApiError::not_found();
    auto u = db::find_user(ctx.db, id);
    if (!u) throw core::ApiError::not_found();
    return *u;
}

// The last active admin stays an active admin. Runs inside the transaction of the change: the
// admins' rows stay locked until it commits, so two admins removing each other at once are
// serialised and the second finds itself the last.
void keep_an_admin(Ctx& ctx, const std::string& target_id) {
    if (db::is_last_active_admin(ctx.db, target_id))
        throw core::ApiError::conflict("role", db::kLastAdminMessage);
}

}  // namespace

constexpr Resource kUsers{.schema = "User",
                          .fields = kUserFields,
                          .bodies = kUserBodies,
                          .cursor_key = FIELD_GET(cursor_key),
                          .cursor_id = FIELD_GET(id)};

Response users_list(Request& req, Ctx& ctx) {
    Page p = read_page(req);
    std::vector<db::User> users = db::list_users(ctx.db, p.limit + 1, p.key, p.id);
    return list_response(kUsers, users, p.limit);
}

Response users_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kUsers, body.get(), kCreate);
    std::string password = in.take("password");
    check_password_policy_or_throw(password, "password");
    db::User u = db::insert_user(ctx.db, in.take("email"), in.take("name"),
                                 core::hash_password(password), in.take("role"));
    return Response::json(201, to_json(kUsers, u)).header("Location", "/api/v1/users/" + u.id);
}

Response users_get(Request& req, Ctx& ctx) {
    return Response::json(200, to_json(kUsers, visible_user_or_404(req, ctx)));
}

// name (self or admin); role and is_active (admin only: a member asking gets 403).
Response users_update(Request& req, Ctx& ctx) {
    db::User target = visible_user_or_404(req, ctx);
    core::JsonPtr body = json_body(req);
    Input in = read_body(kUsers, body.get(), kPatch);
    db::UserChanges c{in.str("name"), in.str("role"), in.boolean("is_active"), {}};
    if ((c.role || c.is_active) && !req.user().is_admin())
        throw core::ApiError::forbidden("only an admin may change role or is_active");
    db::Tx tx(ctx.db);
    if ((c.role && *c.role != "admin") || (c.is_active && !*c.is_active))
        keep_an_admin(ctx, target.id);
    auto u = db::update_user(ctx.db, target.id, c);
    if (!u) throw core::ApiError::not_found();
    if (c.is_active && !*c.is_active) db::revoke_all_for_user(ctx.db, u->id);
    tx.commit();
    return Response::json(200, to_json(kUsers, *u));
}

// The user's sessions and tokens go with the row (ON DELETE CASCADE), and every access token
// fails at once because its user no longer exists. The audio files go after the commit (a
// rolled-back delete keeps them); one left behind by a crash here is the sweep's (worker/sweep).
// The cascade crosses rows the worker locks: a deadlock PostgreSQL breaks by aborting us (rare:
// db::delete_user locks in the workers' order) is retried instead of answered 503.
Response users_delete(Request& req, Ctx& ctx) {
    db::User target = visible_user_or_404(req, ctx);
    for (int attempt = 1;; ++attempt) {
        try {
            db::Tx tx(ctx.db);
            keep_an_admin(ctx, target.id);
            auto audio = db::delete_user(ctx.db, target.id);
            if (!audio) throw core::ApiError::not_found();
            tx.commit();
            remove_audio_files(ctx, *audio);
            return Response::no_content();
        } catch (const db::DbError& e) {
            if (attempt == 3 || (e.sqlstate != "40P01" && e.sqlstate != "40001")) throw;
        }
    }
}

}  // namespace handlers
