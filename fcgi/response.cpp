// Response constructors and the CGI header rendering.
#include "fcgi/response.h"

#include "core/json.h"

namespace fcgi {

Response Response::json(int status, std::string body) {
    return Response{status, "application/json", {}, std::move(body)};
}

Response Response::no_content() {
    return Response{204, "", {}, ""};
}

Response Response::text(int status, std::string content_type, std::string body) {
    return Response{status, std::move(content_type), {}, std::move(body)};
}

Response Response::problem(const core::ApiError& e, const std::string& request_id) {
    core::JsonWriter w;
    w.begin_object();
    w.field("type", e.type.empty() ? std::string("about:blank") : e.type);
    w.field("title", e.title);
    w.field("status", e.status);
    w.field("detail", e.detail);
    if (!e.errors.empty()) {
        w.key("errors").begin_array();
        for (const auto& fe : e.errors) {
            w.begin_object().field("field", fe.field).field("message", fe.message).end_object();
        }
        w.end_array();
    }
    if (!request_id.empty()) w.field("request_id", request_id);
    w.end_object();
    Response r{e.status, "application/problem+json", e.headers, w.take()};
    return r;
}

std::string Response::head() const {
    std::string h = "Status: " + std::to_string(status) + " " + core::status_text(status) + "\r\n";
    if (!content_type.empty()) {
        h += "Content-Type: " + content_type;
        if (content_type.find("json") != std::string::npos || content_type.rfind("text/", 0) == 0)
            h += "; charset=utf-8";
        h += "\r\n";
    }
    for (const auto& [k, v] : headers) h += k + ": " + v + "\r\n";
    h += "\r\n";
    return h;
}

}  // namespace fcgi
