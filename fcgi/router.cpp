// Route matching.
#include "fcgi/router.h"

#include <cctype>

#include "core/problem.h"
#include "core/query.h"

namespace fcgi {
namespace {

bool is_uuid_param(std::string_view name) {
    return name == "id" || (name.size() > 3 && name.substr(name.size() - 3) == "_id");
}

// Matches one pattern against the path; on success appends the parameters.
bool match_pattern(std::string_view pattern, std::string_view path,
                   std::vector<std::pair<std::string, std::string>>& params) {
    params.clear();
    size_t pi = 0, si = 0;
    while (pi < pattern.size() && si <= path.size()) {
        if (pattern[pi] == '{') {
            size_t close = pattern.find('}', pi);
            std::string name(pattern.substr(pi + 1, close - pi - 1));
            size_t end = path.find('/', si);
            if (end == std::string_view::npos) end = path.size();
            if (end == si) return false;  // empty segment
            params.emplace_back(std::move(name), std::string(path.substr(si, end - si)));
            pi = close + 1;
            si = end;
            continue;
        }
        if (si >= path.size() || pattern[pi] != path[si]) return false;
        ++pi;
        ++si;
    }
    return pi == pattern.size() && si == path.size();
}

}  // namespace

const Route& Router::match(Request& req) const {
    std::string allow;
    std::string_view method = req.method;
    if (method == "HEAD") method = "GET";
    std::vector<std::pair<std::string, std::string>> params;
    bool bad_id = false;
    for (const Route& r : routes_) {
        if (!match_pattern(r.pattern, req.path, params)) continue;
        bool uuids_ok = true;
        for (auto& [name, value] : params)
            if (is_uuid_param(name) && !core::normalise_uuid(value)) uuids_ok = false;
        // A non-UUID id names nothing: the same 404 as an unknown id (never a SQL error), unless
        // a literal route matches the segment (POST /tasks/batch-delete besides /tasks/{id}),
        // wherever it stands in the table.
        if (!uuids_ok) {
            bad_id = true;
            continue;
        }
        if (method == r.method) {
            req.path_params = std::move(params);
            req.route_name = r.name;
            return r;
        }
        if (allow.find(r.method) == std::string::npos) {
            if (!allow.empty()) allow += ", ";
            allow += r.method;
            if (std::string_view(r.method) == "GET") allow += ", HEAD";
        }
    }
    if (!allow.empty()) throw core::ApiError::method_not_allowed(allow);
    if (bad_id) throw core::ApiError::not_found();
    throw core::ApiError::not_found("no route for " + req.path);
}

void refuse_unknown_params(const Request& req, const Route& route) {
    core::refuse_unknown_params(req.query, route.query);
}

}  // namespace fcgi
