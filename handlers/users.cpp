// Users: admins manage everyone; a member reads, edits and deletes only itself (another
// user's id answers 404, exactly like an unknown one).
#include "db/users.h"
#include "core/passwords.h"
#include "core/problem.h"
#include "db/refresh_tokens.h"
#include "core/query.h"
#include "handlers/common.h"
#include "handlers/routes.h"
#include "handlers/uploads.h"

namespace handlers {
namespace {

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
    std::vector<std::string> admins = db::lock_active_admins(ctx.db);
    if (admins.size() == 1 && admins.front() == target_id)
        throw core::ApiError::conflict("role", "the last active admin cannot be removed");
}

std::optional<std::string> role_field(core::ObjectReader& r) {
    auto role = r.optional_string("role", 1, 16);
    if (role && *role != "admin" && *role != "member")
        throw core::ApiError::unprocessable("role", "must be admin or member");
    return role;
}

}  // namespace

Response users_list(Request& req, Ctx& ctx) {
    allow_params(req, {"limit", "cursor"});
    int limit = core::limit_or_throw(req.query);
    std::optional<std::string> key, id;
    if (auto c = req.query.get("cursor")) std::tie(key, id) = decode_cursor_or_throw(*c);
    // One extra row tells whether there is a next page.
    std::vector<db::User> users = db::list_users(ctx.db, limit + 1, key, id);
    bool more = static_cast<int>(users.size()) > limit;
    if (more) users.pop_back();
    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const db::User& u : users) write_user(w, u);
    w.end_array().key("next_cursor");
    if (more) {
        w.value(encode_cursor(users.back().cursor_key, users.back().id));
    } else {
        w.null();
    }
    w.end_object();
    return Response::json(200, w.take());
}

Response users_create(Request& req, Ctx& ctx) {
    allow_params(req, {});
    core::JsonPtr body = json_body(req);
    core::ObjectReader r(body.get());
    std::string email = normalise_email_or_throw(r.required_string("email", 1, 320));
    std::string password = r.required_string("password", 1, 1024);
    std::string name = r.required_string("name", 1, 100);
    std::string role = role_field(r).value_or("member");
    r.finish();
    check_password_policy_or_throw(password, "password");
    db::User u = db::insert_user(ctx.db, email, name, core::hash_password(password), role);
    return Response::json(201, user_json(u)).header("Location", "/api/v1/users/" + u.id);
}

Response users_get(Request& req, Ctx& ctx) {
    allow_params(req, {});
    return Response::json(200, user_json(visible_user_or_404(req, ctx)));
}

// name (self or admin); role and is_active (admin only: a member asking gets 403).
Response users_update(Request& req, Ctx& ctx) {
    allow_params(req, {});
    db::User target = visible_user_or_404(req, ctx);
    core::JsonPtr body = json_body(req);
    core::ObjectReader r(body.get());
    db::UserChanges c;
    c.name = r.optional_string("name", 1, 100);
    c.role = role_field(r);
    c.is_active = r.optional_bool("is_active");
    r.finish();
    if ((c.role || c.is_active) && !req.user().is_admin())
        throw core::ApiError::forbidden("only an admin may change role or is_active");
    db::Tx tx(ctx.db);
    if ((c.role && *c.role != "admin") || (c.is_active && !*c.is_active))
        keep_an_admin(ctx, target.id);
    auto u = db::update_user(ctx.db, target.id, c);
    if (!u) throw core::ApiError::not_found();
    if (c.is_active && !*c.is_active) db::revoke_all_for_user(ctx.db, u->id);
    tx.commit();
    return Response::json(200, user_json(*u));
}

// The user's sessions and tokens go with the row (ON DELETE CASCADE), and every access token
// fails at once because its user no longer exists. The audio files go after the commit (a
// rolled-back delete keeps them); one left behind by a crash here is the sweep's (worker/sweep).
// The cascade crosses rows the worker locks: a deadlock PostgreSQL breaks by aborting us (rare:
// db::delete_user locks in the workers' order) is retried instead of answered 503.
Response users_delete(Request& req, Ctx& ctx) {
    allow_params(req, {});
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
