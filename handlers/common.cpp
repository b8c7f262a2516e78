// Shared handler pieces.
#include "handlers/common.h"

#include "fcgi/scoreboard.h"
#include "handlers/routes.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "auth/authenticate.h"
#include "core/config.h"
#include "core/passwords.h"
#include "core/problem.h"
#include "core/tokens.h"
#include "db/refresh_tokens.h"

namespace handlers {

core::JsonPtr json_body(const fcgi::Request& req) {
    return core::parse_json_strict(req.body);
}

namespace {

// Reads exactly n digits at text[pos..] into out; false if any is not a digit.
bool digits(std::string_view text, size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

int days_in_month(int year, int month) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

// hh:mm:ss[.fraction] then Z or ±hh:mm, starting at pos; true if all of it is valid.
bool valid_time_part(std::string_view t, size_t pos) {
    int h, m, sec;
    if (!digits(t, pos, 2, h) || t.size() <= pos + 2 || t[pos + 2] != ':' ||
        !digits(t, pos + 3, 2, m) || t.size() <= pos + 5 || t[pos + 5] != ':' ||
        !digits(t, pos + 6, 2, sec) || h > 23 || m > 59 || sec > 59)
        return false;
    pos += 8;
    if (pos < t.size() && t[pos] == '.') {
        size_t start = ++pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
        if (pos == start || pos - start > 9) return false;
    }
    if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) return pos + 1 == t.size();
    int oh, om;
    return pos + 6 == t.size() && (t[pos] == '+' || t[pos] == '-') && digits(t, pos + 1, 2, oh) &&
           t[pos + 3] == ':' && digits(t, pos + 4, 2, om) && om <= 59 &&
           (oh < 14 || (oh == 14 && om == 0));
}

}  // namespace

namespace {
// The YYYY-MM-DD that starts t, with a day the month has.
bool starts_with_date(std::string_view t) {
    int y, mo, d;
    return t.size() >= 10 && digits(t, 0, 4, y) && t[4] == '-' && digits(t, 5, 2, mo) &&
           t[7] == '-' && digits(t, 8, 2, d) && y >= 1 && mo >= 1 && mo <= 12 && d >= 1 &&
           d <= days_in_month(y, mo);
}
}  // namespace

bool is_calendar_date(std::string_view t) {
    return t.size() == 10 && starts_with_date(t);
}

std::string rfc3339_or_throw(std::string_view t, const char* field) {
    bool ok = starts_with_date(t);
    if (ok && t.size() > 10) ok = (t[10] == 'T' || t[10] == 't') && valid_time_part(t, 11);
    if (!ok)
        throw core::ApiError::bad_request("must be a date (YYYY-MM-DD) or an RFC 3339 time", field);
    return std::string(t);
}

std::string encode_cursor(const std::string& key, const std::string& id) {
    std::string raw = key + "." + id;
    std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                      raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::pair<std::string, std::string> decode_cursor_or_throw(std::string_view cursor) {
    auto bad = [] { return core::ApiError::bad_request("malformed cursor", "cursor"); };
    if (cursor.empty() || cursor.size() > 128) throw bad();
    std::string raw(cursor.size(), '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), cursor.data(),
                          cursor.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        throw bad();
    raw.resize(len);
    size_t dot = raw.find('.');
    if (dot == std::string::npos || dot == 0 || dot > 20) throw bad();
    std::string key = raw.substr(0, dot), id = raw.substr(dot + 1);
    if (key.find_first_not_of("-0123456789") != std::string::npos) throw bad();
    if (!core::normalise_uuid(id)) throw bad();
    return {key, id};
}

std::string normalise_email_or_throw(std::string_view email) {
    auto bad = [](const char* why) { return core::ApiError::unprocessable("email", why); };
    if (email.size() < 3 || email.size() > 254) throw bad("must be 3–254 characters");
    std::string out;
    for (char c : email) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) throw bad("must be plain ASCII (internationalised addresses are refused)");
        if (u <= 0x20 || u == 0x7f) throw bad("must not contain spaces or control characters");
        out += static_cast<char>(std::tolower(u));
    }
    size_t at = out.find('@');
    if (at == std::string::npos || at == 0 || out.find('@', at + 1) != std::string::npos)
        throw bad("must be one local part, '@', and a domain");
    std::string_view domain = std::string_view(out).substr(at + 1);
    if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
        domain.back() == '.' || domain.find("..") != std::string_view::npos)
        throw bad("domain must be a dotted name");
    return out;
}

void check_password_policy_or_throw(std::string_view password, const char* field) {
    if (auto problem = core::password_policy_problem(password))
        throw core::ApiError::unprocessable(field, *problem);
}

namespace {

std::string cookie(const char* name, const std::string& value, const char* path, int max_age,
                   bool http_only, bool secure) {
    std::string c = std::string(name) + "=" + value + "; Path=" + path +
                    "; Max-Age=" + std::to_string(max_age) + "; SameSite=Strict";
    if (http_only) c += "; HttpOnly";
    if (secure) c += "; Secure";
    return c;
}

}  // namespace

fcgi::Response token_pair_response(fcgi::Ctx& ctx, const std::string& user_id,
                                   int64_t token_version, const std::string& refresh,
                                   bool cookies) {
    std::string access =
        core::issue_access_token(ctx.tokens, user_id, token_version, std::time(nullptr));
    core::JsonWriter w;
    w.begin_object()
        .field("access_token", access)
        .field("refresh_token", refresh)
        .field("token_type", "bearer")
        .field("expires_in", static_cast<int64_t>(ctx.cfg.access_ttl_s))
        .end_object();
    fcgi::Response res = fcgi::Response::json(200, w.take());
    res.header("Cache-Control", "no-store");
    if (cookies) {
        bool secure = ctx.cfg.cookie_secure;
        res.header("Set-Cookie",
                   cookie(auth::kAccessCookie, access, "/", ctx.cfg.access_ttl_s, true, secure));
        res.header("Set-Cookie", cookie(auth::kRefreshCookie, refresh, "/api/v1/auth",
                                        ctx.cfg.refresh_ttl_s, true, secure));
        res.header("Set-Cookie", cookie(auth::kCsrfCookie, core::random_token(), "/",
                                        ctx.cfg.refresh_ttl_s, false, secure));
    }
    return res;
}

fcgi::Response login_response(fcgi::Ctx& ctx, const db::User& user, bool cookies) {
    std::string refresh = core::new_refresh_token();
    db::insert_refresh_token(ctx.db, user.id, "", core::token_hash(refresh), ctx.cfg.refresh_ttl_s);
    return token_pair_response(ctx, user.id, user.token_version, refresh, cookies);
}

void clear_auth_cookies(fcgi::Response& res, const fcgi::Ctx& ctx) {
    bool secure = ctx.cfg.cookie_secure;
    res.header("Set-Cookie", cookie(auth::kAccessCookie, "", "/", 0, true, secure));
    res.header("Set-Cookie", cookie(auth::kRefreshCookie, "", "/api/v1/auth", 0, true, secure));
    res.header("Set-Cookie", cookie(auth::kCsrfCookie, "", "/", 0, false, secure));
}

bool wants_cookies(const fcgi::Request& req) {
    auto v = req.query.get("set_cookie");
    if (!v) return false;
    if (*v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    throw core::ApiError::bad_request("set_cookie must be true or false", "set_cookie");
}

int workers_in_route(const fcgi::Ctx& ctx, std::string_view route_name) {
    if (!ctx.board) return 0;
    int index = -1;
    auto routes = route_table();
    for (size_t i = 0; i < routes.size(); ++i)
        if (routes[i].name == route_name) index = static_cast<int>(i);
    int n = 0;
    for (const fcgi::WorkerSlot& slot : ctx.board->slots)
        if (slot.pid.load() != 0 && slot.route.load() == index) ++n;
    return n;
}

}  // namespace handlers
