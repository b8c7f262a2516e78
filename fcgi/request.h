// Request: a plain value built from the FastCGI (or CGI) parameters and body. Handlers read
// it; they never see FCGX.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fcgi/query.h"

namespace fcgi {

// The authenticated caller, filled in by dispatch for routes that require auth. Read from
// the database on every request (one query), so role and activity are never stale.
struct Caller {
    std::string id;
    std::string email;
    std::string name;
    std::string role;  // "admin" | "member"
    int64_t token_version = 0;
    std::string created_at;
    std::string updated_at;
    bool via_cookie = false;
    bool is_admin() const { return role == "admin"; }
};

struct Request {
    std::string method;
    std::string path;          // decoded, normalised by nginx ($document_uri)
    std::string query_string;  // raw
    std::string content_type;
    std::string request_id;  // nginx's $request_id
    std::string remote_addr;
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, no HTTP_
    std::string body;

    // Filled in by dispatch.
    std::string route_name;
    std::vector<std::pair<std::string, std::string>> path_params;
    Params query;
    std::optional<Caller> caller;

    // The first header with this lower-case name (e.g. "authorization").
    std::optional<std::string_view> header(std::string_view name) const;
    std::string_view path_param(std::string_view name) const;
    const Caller& user() const { return *caller; }  // only on AUTH routes
    // The media type without parameters, lower-cased ("application/json").
    std::string media_type() const;
};

}  // namespace fcgi
