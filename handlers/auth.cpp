// Auth: register, login (JSON and OAuth2 form), refresh rotation, logout, and the caller's
// own account.
#include <arpa/inet.h>

#include <algorithm>

#include "auth/authenticate.h"
#include "core/config.h"
#include "core/passwords.h"
#include "core/problem.h"
#include "core/tokens.h"
#include "db/auth_failures.h"
#include "db/refresh_tokens.h"
#include "db/users.h"
#include "fcgi/site.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

// Login passwords are capped in bytes before argon2 runs (a 1 MiB password must not cost
// 1 MiB of hashing): 400, whatever the encoding. Registration's policy (256 code points) is
// stricter anyway. kAnyLength lets the reader accept the string so the byte rule decides.
constexpr size_t kMaxLoginPasswordBytes = 1024;
constexpr size_t kAnyLength = 1 << 20;
constexpr size_t kMaxEmailBytes = 320;

// The same 401 for an unknown email, a wrong password and a deactivated account.
core::ApiError bad_credentials() {
    return core::ApiError::unauthorized("incorrect email or password");
}

// --- the per-account back-off on password checks (db/auth_failures.h) ----------------------

// The address a back-off counter is kept for: IPv4 as it is, IPv6 as its /64 (one host's
// privacy addresses rotate inside its prefix).
std::string backoff_source(const Request& req) {
    unsigned char a[16];
    if (inet_pton(AF_INET6, req.remote_addr.c_str(), a) != 1) return req.remote_addr;
    std::fill(a + 8, a + 16, 0);
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, a, text, sizeof text)) return req.remote_addr;
    return std::string(text) + "/64";
}

// One password check under the back-off: the constructor charges the attempt (429 with
// Retry-After while the account must wait: the password is then not even checked), and
// succeeded() resets the counter after a correct password. A wrong one stays charged.
class PasswordCheck {
  public:
    PasswordCheck(Ctx& ctx, const Request& req, std::string email)
        : ctx_(ctx), email_(std::move(email)), source_(backoff_source(req)) {
        scope_ = db::backoff_scope(ctx_.db, email_, source_);
        db::BackoffPolicy policy{ctx_.cfg.auth_failures_free, ctx_.cfg.auth_backoff_max_s};
        if (int wait = db::charge_auth_attempt(ctx_.db, email_, scope_, policy)) {
            core::ApiError e = core::ApiError::too_many_requests(wait);
            e.detail = "too many failed password checks for this account; try again in " +
                       std::to_string(wait) + " s";
            throw e;
        }
    }
    void succeeded(const std::string& user_id) {
        db::auth_succeeded(ctx_.db, email_, scope_, user_id, source_);
    }

  private:
    Ctx& ctx_;
    std::string email_;
    std::string source_;
    std::string scope_;
};

// ---------------------------------------------------------------------------------------------

Response login_with(Ctx& ctx, const Request& req, const std::string& email_in,
                    const std::string& password, bool cookies) {
    if (password.size() > kMaxLoginPasswordBytes)
        throw core::ApiError::bad_request("password is too long", "password");
    std::string email;
    for (char c : email_in) email += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    PasswordCheck check(ctx, req, email);  // unknown emails too: a 429 tells nothing
    auto user = db::find_user_by_email(ctx.db, email);
    if (!user) {
        core::verify_dummy_password(password);  // equal work: no timing oracle for emails
        throw bad_credentials();
    }
    if (!core::verify_password(user->password_hash, password) || !user->is_active)
        throw bad_credentials();
    check.succeeded(user->id);
    if (core::password_needs_rehash(user->password_hash))
        db::set_password_hash(ctx.db, user->id, core::hash_password(password));
    return login_response(ctx, *user, cookies);
}

// ?set_cookie=true, refused (403, nothing set) when a browser says the request comes from
// another site: a cross-site form posting the attacker's credentials to /auth/token would
// otherwise log the victim's browser into the attacker's account (login CSRF). The site's
// own origins are site.hosts, from the configuration, never the request's Host alone.
bool same_site_cookies_wanted(const Request& req, const Ctx& ctx) {
    if (!wants_cookies(req)) return false;
    fcgi::require_same_site(req, ctx.cfg.site_hosts);
    return true;
}

// The role of a self-registered account: "" lets the insert make the first account of an
// empty install admin (auth.first_user_admin, the embedded default); otherwise always member.
const char* registered_role(const Ctx& ctx) {
    return ctx.cfg.first_user_admin ? "" : "member";
}

// The refresh token from the body, or from the HttpOnly cookie (then CSRF-checked).
std::optional<std::string> refresh_token_from(const Request& req) {
    if (!req.body.empty()) {
        core::JsonPtr body = json_body(req);
        core::ObjectReader r(body.get());
        // Any string up to a token's size is merely a wrong token (401), never a 422.
        std::string token = r.required_string("refresh_token", 1, 4096);
        r.finish();
        return token;
    }
    auto cookies = req.header("cookie");
    auto token = cookies ? core::cookie_value(*cookies, auth::kRefreshCookie) : std::nullopt;
    if (token) auth::require_csrf(cookies, req.header(auth::kCsrfHeader));
    return token;
}

}  // namespace

// The registration body is the users resource's kBodyA (handlers/users.cpp).
Response auth_register(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kUsers, body.get(), kBodyA);
    std::string password = in.take("password");
    check_password_policy_or_throw(password, "password");
    db::User u = db::insert_user(ctx.db, in.take("email"), in.take("name"),
                                 core::hash_password(password), registered_role(ctx));
    return Response::json(201, to_json(kUsers, u)).header("Location", "/api/v1/users/" + u.id);
}

Response auth_login(Request& req, Ctx& ctx) {
    bool cookies = same_site_cookies_wanted(req, ctx);
    core::JsonPtr body = json_body(req);
    core::ObjectReader r(body.get());
    std::string email = r.required_string("email", 1, kMaxEmailBytes);
    std::string password = r.required_string("password", 1, kAnyLength);
    r.finish();
    return login_with(ctx, req, email, password, cookies);
}

// OAuth2 password grant as Swagger UI's Authorize button sends it.
Response auth_token(Request& req, Ctx& ctx) {
    bool cookies = same_site_cookies_wanted(req, ctx);
    core::Params form = core::parse_form(req.body);
    static const std::string_view kKnown[] = {"grant_type", "username",  "password",
                                              "scope",      "client_id", "client_secret"};
    for (const auto& item : form.items()) {
        if (std::find(std::begin(kKnown), std::end(kKnown), item.first) == std::end(kKnown))
            throw core::ApiError::bad_request("unknown form field '" + item.first + "'",
                                              item.first);
    }
    auto grant = form.get("grant_type");
    if (grant && *grant != "password")
        throw core::ApiError::bad_request("only grant_type=password is supported", "grant_type");
    auto username = form.get("username");
    auto password = form.get("password");
    if (!username || username->empty() || username->size() > kMaxEmailBytes)
        throw core::ApiError::bad_request("username is required", "username");
    if (!password || password->empty())
        throw core::ApiError::bad_request("password is required", "password");
    return login_with(ctx, req, std::string(*username), std::string(*password), cookies);
}

Response auth_refresh(Request& req, Ctx& ctx) {
    bool cookies = same_site_cookies_wanted(req, ctx);
    auto token = refresh_token_from(req);
    if (!token) throw core::ApiError::unauthorized("missing refresh token");
    std::string next = core::new_refresh_token();
    db::Rotation rot;
    switch (db::rotate_refresh_token(ctx.db, core::token_hash(*token), core::token_hash(next),
                                     ctx.cfg.refresh_ttl_s, rot)) {
        case db::RotateOutcome::rotated:
            break;
        case db::RotateOutcome::reused:
            throw core::ApiError::unauthorized(
                "refresh token already used; every token of this login is revoked");
        case db::RotateOutcome::invalid:
            throw core::ApiError::unauthorized("invalid or expired refresh token");
    }
    auto user = db::find_user_auth(ctx.db, rot.user_id);
    if (!user || !user->is_active) throw core::ApiError::unauthorized("account unavailable");
    return token_pair_response(ctx, user->id, user->token_version, next, cookies);
}

Response auth_logout(Request& req, Ctx& ctx) {
    fcgi::require_same_site(req, ctx.cfg.site_hosts);  // it sets (clears) the cookies too
    auto token = refresh_token_from(req);
    if (token) db::revoke_family_of(ctx.db, core::token_hash(*token));
    Response res = Response::no_content();
    clear_auth_cookies(res, ctx);
    return res;
}

// The caller's row was read by the auth check: no second query.
Response auth_me_get(Request& req, Ctx&) {
    const fcgi::Caller& c = req.user();
    db::User u{c.id, c.email,      c.name,       c.role, true, c.token_version,
               {},   c.created_at, c.updated_at, {}};
    return Response::json(200, to_json(kUsers, u)).header("Cache-Control", "no-store");
}

// {name?, current_password?, new_password?}: a new password needs the current one, and
// revokes every token of the user (token_version bump + refresh tokens).
// The body is the users resource's kBodyB (handlers/users.cpp).
Response auth_me_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kUsers, body.get(), kBodyB);
    db::UserChanges changes;
    changes.name = in.str("name");
    auto current = in.str("current_password");
    auto next = in.str("new_password");
    if (next) {
        if (!current)
            throw core::ApiError::unprocessable("current_password",
                                                "is required to set a new password");
        check_password_policy_or_throw(*next, "new_password");
        if (current->size() > kMaxLoginPasswordBytes)
            throw core::ApiError::bad_request("current_password is too long", "current_password");
        // A stolen access token must not be an unlimited password oracle.
        PasswordCheck check(ctx, req, req.user().email);
        auto me = db::find_user(ctx.db, req.user().id);
        if (!me || !core::verify_password(me->password_hash, *current))
            throw core::ApiError::unprocessable("current_password", "is not correct");
        check.succeeded(me->id);
        changes.password_hash = core::hash_password(*next);
    }
    db::Tx tx(ctx.db);
    auto u = db::update_user(ctx.db, req.user().id, changes);
    if (!u) throw core::ApiError::unauthorized("account unavailable");
    if (next) db::revoke_all_for_user(ctx.db, u->id);
    tx.commit();
    return Response::json(200, to_json(kUsers, *u));
}

// nginx asks this (auth_request) before it reads the body of an upload, so an anonymous client
// gets its 401 after sending headers, not after 200 MB were buffered to nginx's disk. The
// route's kAuth did the whole check (token, cookie, the user's row); there is no body to read.
Response auth_gate(Request&, Ctx&) {
    return Response::no_content();
}

}  // namespace handlers
