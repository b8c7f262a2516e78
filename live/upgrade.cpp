// Checks on an upgrade request.
#include "live/upgrade.h"

#include "auth/authenticate.h"
#include "core/problem.h"
#include "core/query.h"
#include "db/session_rules.h"
#include "speech/languages.h"

namespace live {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '/'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::string access_token(const core::Params& query, std::optional<std::string_view> cookie) {
    if (auto t = query.get("token"); t && !t->empty()) return std::string(*t);
    if (cookie) {
        if (auto c = core::cookie_value(*cookie, auth::kAccessCookie); c && !c->empty()) return *c;
    }
    throw core::ApiError::unauthorized("missing access token (?token= or the access cookie)");
}

std::vector<std::string> split_origins(const std::string& csv) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= csv.size()) {
        size_t comma = csv.find(',', start);
        if (comma == std::string::npos) comma = csv.size();
        std::string_view piece = trim(std::string_view(csv).substr(start, comma - start));
        if (!piece.empty()) out.emplace_back(piece);
        start = comma + 1;
    }
    return out;
}

void check_origin(std::optional<std::string_view> origin, std::string_view host,
                  const std::vector<std::string>& allowed) {
    if (!origin) return;
    std::string_view o = trim(*origin);
    for (const auto& a : allowed)
        if (core::equals_ascii_ci(o, a)) return;
    size_t scheme_end = o.find("://");
    if (scheme_end != std::string_view::npos && !host.empty() &&
        core::equals_ascii_ci(o.substr(scheme_end + 3), host))
        return;
    throw core::ApiError::forbidden("origin not allowed");
}

std::optional<int64_t> events_since(const core::Params& query) {
    auto v = query.get("since");
    if (!v) return std::nullopt;
    int64_t n = 0;
    if (v->empty() || v->size() > 18) throw core::ApiError::bad_request("must be a seq", "since");
    for (char c : *v) {
        if (c < '0' || c > '9') throw core::ApiError::bad_request("must be a seq", "since");
        n = n * 10 + (c - '0');
    }
    return n;
}

std::optional<SaveTarget> save_target(const core::Params& query) {
    auto save = query.get("save");
    if (!save || *save == "0" || *save == "false") {
        for (const char* k : {"kind", "title", "patient_id", "project_id", "consent"})
            if (query.has(k)) throw core::ApiError::bad_request("only with save=1", k);
        return std::nullopt;
    }
    if (*save != "1" && *save != "true")
        throw core::ApiError::bad_request("must be 0 or 1", "save");
    SaveTarget t;
    // The API's upload rules (db/session_rules.h): a title counts characters, not bytes.
    t.kind = std::string(query.get("kind").value_or(db::kDefaultSessionKind));
    db::check_session_kind(t.kind);
    t.title = std::string(query.get("title").value_or(""));
    db::check_session_title(t.title);
    if (auto p = query.get("patient_id")) {
        std::string id(*p);
        if (!core::normalise_uuid(id))
            throw core::ApiError::unprocessable("patient_id", "must be a UUID");
        t.patient_id = id;
    }
    // Whether the caller can see it is the database's answer, at the upgrade (http_connection).
    if (auto p = query.get("project_id")) {
        std::string id(*p);
        if (!core::normalise_uuid(id))
            throw core::ApiError::unprocessable("project_id", "must be a UUID");
        t.project_id = id;
    }
    // An upload's consent rule (handlers/scribe.h): true/1 or false/0, absent = false.
    if (auto c = query.get("consent")) {
        if (*c == "1" || *c == "true") {
            t.consent = true;
        } else if (*c != "0" && *c != "false") {
            throw core::ApiError::unprocessable("consent", "must be true or false");
        }
    }
    return t;
}

std::string stream_language(const core::Params& query, const std::string& model_root) {
    auto lang = query.get("lang");
    std::string language = lang && !lang->empty() ? std::string(*lang) : speech::kDefaultLanguage;
    speech::require_installed(model_root, language);
    return language;
}

std::string clean_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return {};
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return {};
    return std::string(id);
}

}  // namespace live
