// ApiError's named constructors and the status table.
#include "core/problem.h"

#include "core/json.h"

namespace core {

ApiError::ApiError(int status_, std::string title_, std::string detail_,
                   std::vector<FieldError> errors_, std::string type_)
    : std::runtime_error(detail_),
      status(status_),
      title(std::move(title_)),
      detail(std::move(detail_)),
      errors(std::move(errors_)),
      type(std::move(type_)) {}

ApiError ApiError::bad_request(std::string detail, std::string field) {
    std::vector<FieldError> errs;
    if (!field.empty()) errs.push_back({field, detail});
    return ApiError(400, status_text(400), std::move(detail), std::move(errs),
                    "/problems/bad-request");
}

ApiError ApiError::unauthorized(std::string detail) {
    ApiError e(401, status_text(401), std::move(detail), {}, "/problems/unauthorized");
    e.headers.emplace_back("WWW-Authenticate", "Bearer");
    return e;
}

ApiError ApiError::forbidden(std::string detail) {
    return ApiError(403, status_text(403), std::move(detail), {}, "/problems/forbidden");
}

ApiError ApiError::not_found(std::string detail) {
    return ApiError(404, status_text(404), std::move(detail), {}, "/problems/not-found");
}

ApiError ApiError::method_not_allowed(std::string allow) {
    ApiError e(405, status_text(405), "allowed: " + allow, {}, "/problems/method-not-allowed");
    e.headers.emplace_back("Allow", std::move(allow));
    return e;
}

ApiError ApiError::conflict(std::string field, std::string detail) {
    std::vector<FieldError> errs;
    if (!field.empty()) errs.push_back({field, detail});
    return ApiError(409, status_text(409), std::move(detail), std::move(errs),
                    "/problems/conflict");
}

ApiError ApiError::too_large(std::string detail) {
    return ApiError(413, status_text(413), std::move(detail), {}, "/problems/too-large");
}

ApiError ApiError::unsupported_media(std::string detail) {
    return ApiError(415, status_text(415), std::move(detail), {},
                    "/problems/unsupported-media-type");
}

ApiError ApiError::unprocessable(std::string field, std::string message) {
    std::string detail = field.empty() ? message : field + ": " + message;
    return ApiError(422, status_text(422), std::move(detail), {{field, std::move(message)}},
                    "/problems/validation");
}

ApiError ApiError::too_many_requests(int retry_after_s) {
    ApiError e(429, status_text(429), "too many requests", {}, "/problems/rate-limited");
    e.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
    return e;
}

ApiError ApiError::insufficient_storage() {
    return ApiError(507, status_text(507), "the server's disk is full; nothing was stored", {},
                    "/problems/insufficient-storage");
}

ApiError ApiError::unavailable(std::string detail) {
    return ApiError(503, status_text(503), std::move(detail), {}, "/problems/unavailable");
}

std::string problem_json(const ApiError& e, std::string_view request_id) {
    JsonWriter w;
    w.begin_object();
    w.field("type", e.type.empty() ? std::string("about:blank") : e.type);
    w.field("title", e.title);
    w.field("status", e.status);
    w.field("detail", e.detail);
    if (!e.errors.empty()) {
        w.key("errors").begin_array();
        for (const auto& fe : e.errors)
            w.begin_object().field("field", fe.field).field("message", fe.message).end_object();
        w.end_array();
    }
    if (!request_id.empty()) w.field("request_id", std::string(request_id));
    w.end_object();
    return w.take();
}

const char* status_text(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 421:
            return "Misdirected Request";
        case 422:
            return "Unprocessable Content";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 507:
            return "Insufficient Storage";
        default:
            return "Unknown";
    }
}

}  // namespace core
