// The Range header of a download (RFC 9110 §14), for CGI mode, which serves audio itself:
// nginx's internal location does it behind FastCGI. Only a single range is read.
#pragma once

#include <cstdint>
#include <optional>

namespace fcgi {

struct ByteRange {
    int64_t first, last;  // inclusive
};

// One "bytes=a-b" / "bytes=a-" / "bytes=-n" range of a file of `size` bytes (RFC 9110 §14).
// nullopt: serve the whole file (no Range, several ranges, or a form we do not read, which
// RFC 9110 lets a server ignore); first > last: unsatisfiable (416).
std::optional<ByteRange> parse_range(const char* header, int64_t size);

}  // namespace fcgi
