// Streaming multipart/form-data parser (RFC 7578 / RFC 2046): bytes go in as they arrive,
// parts come out through callbacks, memory stays bounded by the header limit plus one
// boundary's length whatever the body size.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fcgi {

struct PartHeaders {
    std::string name;                     // Content-Disposition: form-data; name="..."
    std::optional<std::string> filename;  // present (maybe empty) when the part is a file
    std::string content_type;             // as sent, or empty
};

// Receives the parts. Exceptions thrown by a callback propagate out of feed()/finish().
class PartSink {
  public:
    virtual ~PartSink() = default;
    virtual void on_part_begin(const PartHeaders& headers) = 0;
    virtual void on_part_data(const char* data, size_t n) = 0;
    virtual void on_part_end() = 0;
};

struct MultipartLimits {
    size_t max_parts = 16;           // a part-count bomb stops here (linear time before it)
    size_t max_header_bytes = 8192;  // all header lines of one part together
};

// The boundary parameter of a multipart/form-data Content-Type (quoted or not). Throws
// core::ApiError 400 when the type is not multipart/form-data, the boundary is missing, empty,
// longer than 70 characters, or has characters RFC 2046 does not allow.
std::string multipart_boundary(std::string_view content_type);

class MultipartParser {
  public:
    MultipartParser(std::string boundary, PartSink& sink, MultipartLimits limits = {});

    // Feeds the next bytes of the body. Throws core::ApiError 400 with a detail saying what is
    // wrong: a part without Content-Disposition form-data or without name, a header section
    // over the limit, more than max_parts parts, Content-Transfer-Encoding (RFC 7578 forbids
    // it), bare LF line endings where CRLF is required (CRLF is required everywhere from the
    // first delimiter on), a delimiter followed by anything but "--" or padding + CRLF. Bytes
    // after the closing delimiter (the epilogue) are allowed and ignored. After any exception
    // the parser is spent: later feed()/finish() calls throw 400 again.
    void feed(const char* data, size_t n);
    // The body ended: throws 400 unless the closing delimiter (--boundary--) was seen.
    void finish();

    size_t parts_seen() const { return parts_; }
    // Bytes held between feed() calls: a possible partial delimiter or unfinished part headers,
    // never more than max_header_bytes + the delimiter's length. For tests and metrics.
    size_t buffered() const { return buf_.size(); }

  private:
    enum class State { preamble, after_delimiter, headers, data, done, failed };
    void step();
    bool parse_preamble();
    bool parse_after_delimiter();
    bool parse_headers();
    bool parse_data();
    void begin_part(std::string_view header_block);
    void enter_after_delimiter();
    size_t settled_prefix(std::string_view bytes) const;
    std::string_view pending() const { return std::string_view(buf_).substr(pos_); }

    std::string delimiter_;  // "\r\n--" + boundary
    PartSink& sink_;
    MultipartLimits limits_;
    State state_ = State::preamble;
    std::string buf_;     // bytes not yet consumed (bounded); compacted at the end of feed()
    size_t pos_ = 0;      // start of the unconsumed bytes in buf_
    size_t line_ = 0;     // headers: start of the current line, relative to pos_
    size_t scan_ = 0;     // headers: where the search for the next LF resumes, relative to pos_
    size_t padding_ = 0;  // after_delimiter: transport padding consumed so far
    size_t skip_ = 0;     // data: leading CRLF that may begin a delimiter but is never data
    size_t parts_ = 0;
};

}  // namespace fcgi
