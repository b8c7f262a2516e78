// Response: status, headers, body; rendered to CGI/FastCGI output in one place.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/problem.h"

namespace fcgi {

struct Response {
    int status = 200;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    static Response json(int status, std::string body);
    static Response no_content();
    static Response text(int status, std::string content_type, std::string body);
    // RFC 9457 problem+json (core::problem_json), with the request id so users can quote it.
    static Response problem(const core::ApiError& e, const std::string& request_id);

    Response& header(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    // "Status: 200 OK\r\nContent-Type: ...\r\n...\r\n\r\n"
    std::string head() const;
};

}  // namespace fcgi
