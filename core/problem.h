// ApiError: the one way handlers and validators report a client-visible failure.
// Rendered as RFC 9457 application/problem+json by problem_json() below, for both daemons (the
// API's single catch site in fcgi/dispatch.cpp and the live daemon's refusals).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace core {

struct FieldError {
    std::string field;
    std::string message;
};

class ApiError : public std::runtime_error {
  public:
    ApiError(int status, std::string title, std::string detail, std::vector<FieldError> errors = {},
             std::string type = {});

    int status;
    std::string title;
    std::string detail;
    std::vector<FieldError> errors;
    std::string type;  // a stable URI-ish string clients can switch on; "about:blank" if empty
    std::vector<std::pair<std::string, std::string>> headers;  // e.g. WWW-Authenticate

    // 400: the body or a parameter cannot be read at all (bad JSON, bad query, bad header).
    static ApiError bad_request(std::string detail, std::string field = {});
    // 401: no usable credentials. Always carries WWW-Authenticate: Bearer.
    static ApiError unauthorized(std::string detail = "invalid or missing credentials");
    // 403: authenticated, but the role does not allow this.
    static ApiError forbidden(std::string detail = "not allowed for this role");
    // 404: unknown id or another user's resource: the two must look the same.
    static ApiError not_found(std::string detail = "no such resource");
    // 405: the path exists, the method does not. `allow` becomes the Allow header.
    static ApiError method_not_allowed(std::string allow);
    // 409: the request conflicts with stored state (duplicate email, ...).
    static ApiError conflict(std::string field, std::string detail);
    // 413: body or file beyond a configured limit.
    static ApiError too_large(std::string detail);
    // 415: a body of a media type this route does not take.
    static ApiError unsupported_media(std::string detail);
    // 422: the body was read, but a field's value is not acceptable.
    static ApiError unprocessable(std::string field, std::string message);
    // 429: rate limit.
    static ApiError too_many_requests(int retry_after_s);
    // 507: the disk is full; nothing was stored.
    static ApiError insufficient_storage();
    // 503: a dependency (PostgreSQL) is down or too slow; retrying later may work.
    static ApiError unavailable(std::string detail);
};

// The application/problem+json body of an error: type, title, status, detail, errors[] and,
// when known, the request id (nginx's $request_id) so that a user can quote it.
std::string problem_json(const ApiError& e, std::string_view request_id);

// The reason phrase of an HTTP status ("Not Found").
const char* status_text(int status);

}  // namespace core
