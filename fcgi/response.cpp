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
    return Response{e.status, "application/problem+json", e.headers,
                    core::problem_json(e, request_id)};
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
