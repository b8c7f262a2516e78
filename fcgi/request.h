// Request: a plain value built from the FastCGI (or CGI) parameters and body. Handlers read
// it; they never see FCGX.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/query.h"

namespace fcgi {

// Where the body comes from: the FastCGI stream or CGI's stdin.
class BodyReader {
  public:
    virtual ~BodyReader() = default;
    virtual long read(char* buf, size_t n) = 0;  // 0 at end of input, < 0 on error
};

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
    std::string body;            // read by dispatch, except for kStreamBody routes
    int64_t content_length = 0;  // CONTENT_LENGTH (0 when absent, -1 when malformed)
    BodyReader* body_reader = nullptr;

    // Filled in by dispatch.
    std::string route_name;
    std::vector<std::pair<std::string, std::string>> path_params;
    core::Params query;
    std::optional<Caller> caller;

    // The first header with this lower-case name (e.g. "authorization").
    std::optional<std::string_view> header(std::string_view name) const;
    std::string_view path_param(std::string_view name) const;
    const Caller& user() const { return *caller; }  // only on AUTH routes
    // The media type without parameters, lower-cased ("application/json").
    std::string media_type() const;
    // For kStreamBody routes: the next chunk of the body (at most n bytes), 0 at its end.
    // Throws ApiError 400 if the body ends before CONTENT_LENGTH bytes arrived.
    size_t read_body_chunk(char* buf, size_t n);

  private:
    int64_t body_consumed_ = 0;
};

}  // namespace fcgi
