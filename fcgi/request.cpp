// Request accessors.
#include "fcgi/request.h"

#include <algorithm>
#include <cctype>

#include "core/problem.h"

namespace fcgi {

std::optional<std::string_view> Request::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return std::string_view(v);
    return std::nullopt;
}

std::string_view Request::path_param(std::string_view name) const {
    for (const auto& [k, v] : path_params)
        if (k == name) return v;
    return {};
}

std::string Request::media_type() const {
    std::string out;
    for (char c : content_type) {
        if (c == ';') break;
        if (c == ' ' || c == '\t') continue;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

size_t Request::read_body_chunk(char* buf, size_t n) {
    int64_t left = content_length - body_consumed_;
    if (left <= 0 || n == 0) return 0;
    size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(n)));
    long got = body_reader ? body_reader->read(buf, want) : -1;
    if (got <= 0) throw core::ApiError::bad_request("body shorter than its Content-Length");
    body_consumed_ += got;
    return static_cast<size_t>(got);
}

}  // namespace fcgi
