// Streaming multipart/form-data parser: boundary syntax, delimiter search and part headers.
#include "fcgi/multipart.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/problem.h"

namespace fcgi {
namespace {

constexpr size_t kMaxBoundaryChars = 70;  // RFC 2046 §5.1.1
constexpr std::string_view kBareLf =
    "multipart line ends with a bare LF; multipart/form-data requires CRLF line endings";

[[noreturn]] void refuse(std::string detail) {
    throw core::ApiError::bad_request(std::move(detail));
}

bool is_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 9110 token characters: the only ones allowed in header and parameter names.
bool is_tchar(char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 2046 bchars: what a boundary may contain.
bool is_bchar(char c) {
    return is_alnum(c) || std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

// Control characters other than HT never belong in a header line (RFC 9110 §5.5).
bool is_ctl(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

char to_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return to_lower(x) == to_lower(y);
           });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// A header value `type *( OWS ";" OWS name "=" value )` (RFC 9110 §5.6.6), as Content-Type and
// Content-Disposition both use it.
struct HeaderValue {
    std::string type;                                         // lower-cased
    std::vector<std::pair<std::string, std::string>> params;  // names lower-cased, unquoted

    const std::string* param(std::string_view name) const {
        for (const auto& [n, v] : params)
            if (n == name) return &v;
        return nullptr;
    }
};

// Reads a HeaderValue. Lenient where real clients differ (OWS around '=', empty parameters,
// unquoted values with '/' or '='), strict where the result would be ambiguous (duplicate
// parameters, unterminated quotes, junk between parameters).
class HeaderValueReader {
  public:
    HeaderValueReader(std::string_view text, std::string_view header) : s_(text), header_(header) {}

    HeaderValue read() {
        HeaderValue v;
        skip_ows();
        v.type = lowercase(read_run([](char c) { return is_tchar(c) || c == '/'; }, "type"));
        for (;;) {
            skip_ows();
            if (done()) return v;
            if (!at(';')) fail("junk after a value");
            ++i_;
            skip_ows();
            if (done() || at(';')) continue;  // empty parameter, e.g. a trailing ';'
            std::string name = lowercase(read_run(is_tchar, "parameter name"));
            skip_ows();
            if (!at('=')) fail("parameter without '='");
            ++i_;
            skip_ows();
            std::string value = at('"') ? read_quoted() : read_unquoted();
            if (v.param(name)) fail("duplicate parameter " + name);
            v.params.emplace_back(std::move(name), std::move(value));
        }
    }

  private:
    [[noreturn]] void fail(const std::string& why) const {
        refuse("malformed " + std::string(header_) + ": " + why);
    }
    bool done() const { return i_ == s_.size(); }
    bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
    void skip_ows() {
        while (i_ < s_.size() && is_ows(s_[i_])) ++i_;
    }

    template <class Pred>
    std::string_view read_run(Pred ok, const char* what) {
        const size_t start = i_;
        while (i_ < s_.size() && ok(s_[i_])) ++i_;
        if (i_ == start) fail(std::string("empty or invalid ") + what);
        return s_.substr(start, i_ - start);
    }

    // A token in the strict grammar; any visible non-separator here, because clients send
    // e.g. boundary=----=_Part_1 unquoted. Bytes >= 0x80 pass (UTF-8 names and filenames).
    std::string read_unquoted() {
        const std::string_view run = read_run(
            [](char c) { return c != ';' && c != '"' && !is_ows(c) && !is_ctl(c); }, "value");
        return std::string(run);
    }

    // Backslash escapes only '"' and '\': browsers send Windows paths like "C:\boot.ini"
    // without escaping them (WHATWG HTML), and those must survive unchanged.
    std::string read_quoted() {
        std::string out;
        ++i_;
        while (i_ < s_.size()) {
            char c = s_[i_++];
            if (c == '"') return out;
            if (c == '\\' && i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\\')) {
                c = s_[i_++];
            } else if (is_ctl(c)) {
                fail("control character in a quoted string");
            }
            out += c;
        }
        fail("unterminated quoted string");
    }

    std::string_view s_;
    std::string_view header_;
    size_t i_ = 0;
};

void check_boundary(std::string_view b) {
    if (b.empty() || b.size() > kMaxBoundaryChars)
        refuse("multipart boundary must be 1 to 70 characters long");
    if (!std::all_of(b.begin(), b.end(), is_bchar))
        refuse("multipart boundary has a character RFC 2046 does not allow");
    if (b.back() == ' ') refuse("multipart boundary must not end with a space");
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = to_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// RFC 5987 ext-value: charset "'" [language] "'" percent-encoded bytes. Only UTF-8 is decoded;
// anything else is refused rather than silently turning a file into a plain field.
std::string decode_ext_value(std::string_view v) {
    const size_t q1 = v.find('\'');
    const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) refuse("malformed filename* parameter");
    if (!iequals(v.substr(0, q1), "utf-8")) refuse("filename* charset must be UTF-8");
    std::string out;
    for (size_t i = q2 + 1; i < v.size(); ++i) {
        char c = v[i];
        if (c == '%') {
            const int hi = i + 2 < v.size() ? hex_value(v[i + 1]) : -1;
            const int lo = hi < 0 ? -1 : hex_value(v[i + 2]);
            if (lo < 0) refuse("malformed percent-escape in filename*");
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (is_ctl(c)) refuse("control character in filename*");
        out += c;
    }
    return out;
}

void parse_disposition(std::string_view value, PartHeaders& h) {
    const HeaderValue v = HeaderValueReader(value, "Content-Disposition").read();
    if (v.type != "form-data") refuse("part Content-Disposition is not form-data");
    const std::string* name = v.param("name");
    if (!name || name->empty()) refuse("part Content-Disposition has no name");
    h.name = *name;
    if (const std::string* f = v.param("filename")) {
        h.filename = *f;  // raw: sanitising is the handler's job
    } else if (const std::string* ext = v.param("filename*")) {
        h.filename = decode_ext_value(*ext);
    }
}

struct HeaderLine {
    std::string_view name;
    std::string_view value;
};

HeaderLine split_header_line(std::string_view line) {
    if (is_ows(line.front())) refuse("folded part header lines are not supported");
    if (std::any_of(line.begin(), line.end(), is_ctl)) refuse("control character in a part header");
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(), is_tchar))
        refuse("malformed part header line");
    return {name, trim_ows(line.substr(colon + 1))};
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
    const HeaderValue v = HeaderValueReader(content_type, "Content-Type").read();
    if (v.type != "multipart/form-data") refuse("Content-Type is not multipart/form-data");
    const std::string* boundary = v.param("boundary");
    if (!boundary) refuse("multipart/form-data Content-Type has no boundary parameter");
    check_boundary(*boundary);
    return *boundary;
}

// buf_ starts with a CRLF so that a first delimiter at the very start of the body (allowed
// without its CRLF) is found by the same search as every other one.
MultipartParser::MultipartParser(std::string boundary, PartSink& sink, MultipartLimits limits)
    : delimiter_("\r\n--" + boundary), sink_(sink), limits_(limits), buf_("\r\n") {
    check_boundary(boundary);
}

void MultipartParser::feed(const char* data, size_t n) {
    if (state_ == State::failed) refuse("multipart body was already refused");
    if (state_ == State::done || n == 0) return;  // the epilogue is ignored
    buf_.append(data, n);
    try {
        step();
    } catch (...) {
        state_ = State::failed;
        buf_ = std::string();
        pos_ = 0;
        throw;
    }
    // One compaction per feed keeps many small parts in one chunk linear.
    buf_.erase(0, pos_);
    pos_ = 0;
}

void MultipartParser::finish() {
    const State state = state_;
    if (state == State::done) return;
    state_ = State::failed;
    buf_ = std::string();
    pos_ = 0;
    switch (state) {
        case State::preamble:
            refuse(
                "multipart body has no delimiter line (--boundary then CRLF; LF-only line "
                "endings are not accepted)");
        case State::after_delimiter:
        case State::headers:
            refuse("multipart body ends inside a part header");
        case State::data:
            refuse("multipart body ends before the closing delimiter --boundary--");
        default:
            refuse("multipart body was already refused");
    }
}

void MultipartParser::step() {
    for (bool progress = true; progress;) {
        switch (state_) {
            case State::preamble:
                progress = parse_preamble();
                break;
            case State::after_delimiter:
                progress = parse_after_delimiter();
                break;
            case State::headers:
                progress = parse_headers();
                break;
            case State::data:
                progress = parse_data();
                break;
            default:
                progress = false;
                break;
        }
    }
}

// How many leading bytes of `bytes` (which holds no whole delimiter) can no longer be part of
// one: all but a trailing partial delimiter. Only the last delimiter.size()-1 bytes are checked.
size_t MultipartParser::settled_prefix(std::string_view bytes) const {
    const size_t keep = delimiter_.size() - 1;
    const size_t from = bytes.size() > keep ? bytes.size() - keep : 0;
    for (size_t i = bytes.find('\r', from); i != std::string_view::npos;
         i = bytes.find('\r', i + 1)) {
        if (std::string_view(delimiter_).starts_with(bytes.substr(i))) return i;
    }
    return bytes.size();
}

void MultipartParser::enter_after_delimiter() {
    state_ = State::after_delimiter;
    padding_ = 0;
}

bool MultipartParser::parse_preamble() {
    const std::string_view v = pending();
    const size_t at = v.find(delimiter_);
    if (at == std::string_view::npos) {
        pos_ += settled_prefix(v);  // preamble bytes are discarded
        return false;
    }
    pos_ += at + delimiter_.size();
    enter_after_delimiter();
    return true;
}

// After "--boundary": "--" closes the body; otherwise optional padding, then CRLF. Decided byte
// by byte so that every chunking of the body reaches the same verdict.
bool MultipartParser::parse_after_delimiter() {
    std::string_view v = pending();
    if (padding_ == 0 && !v.empty() && v[0] == '-') {
        if (v.size() < 2) return false;
        if (v[1] != '-') refuse("malformed multipart delimiter line");
        state_ = State::done;
        pos_ = buf_.size();  // the epilogue is ignored
        return false;
    }
    size_t i = 0;
    for (; i < v.size() && is_ows(v[i]); ++i) {
        if (++padding_ > limits_.max_header_bytes) refuse("multipart delimiter line too long");
    }
    pos_ += i;
    v.remove_prefix(i);
    if (v.empty()) return false;
    if (v[0] == '\n') refuse(std::string(kBareLf));
    if (v[0] != '\r') refuse("multipart delimiter followed by other text (boundary in the data?)");
    if (v.size() < 2) return false;
    if (v[1] != '\n') refuse("multipart delimiter line ends with a bare CR");
    pos_ += 2;
    if (parts_ >= limits_.max_parts)
        refuse("multipart body has more than " + std::to_string(limits_.max_parts) + " parts");
    state_ = State::headers;
    line_ = scan_ = 0;
    return true;
}

// Collects header lines until the blank line. Each line is checked when its LF arrives, in body
// order, so the size limit and the bare-LF check fire identically for any chunking.
bool MultipartParser::parse_headers() {
    const std::string_view v = pending();
    const auto check_size = [this](size_t n) {
        if (n > limits_.max_header_bytes)
            refuse("part headers longer than " + std::to_string(limits_.max_header_bytes) +
                   " bytes");
    };
    for (;;) {
        const size_t lf = v.find('\n', scan_);
        if (lf == std::string_view::npos) {
            check_size(v.size());
            scan_ = v.size();
            return false;
        }
        check_size(lf + 1);
        if (lf == line_ || v[lf - 1] != '\r') refuse(std::string(kBareLf));
        if (lf == line_ + 1) {
            begin_part(v.substr(0, line_));
            // The blank line's CRLF stays: a delimiter right after the headers (a part with no
            // body, RFC 2046 "body-part := headers [CRLF *OCTET]") begins with it.
            pos_ += line_;
            state_ = State::data;
            skip_ = 2;
            return true;
        }
        line_ = scan_ = lf + 1;
    }
}

void MultipartParser::begin_part(std::string_view header_block) {
    PartHeaders h;
    bool have_disposition = false;
    bool have_type = false;
    while (!header_block.empty()) {
        const size_t end = header_block.find("\r\n");  // every line ends with CRLF
        const HeaderLine line = split_header_line(header_block.substr(0, end));
        header_block.remove_prefix(end + 2);
        if (iequals(line.name, "content-disposition")) {
            if (have_disposition) refuse("part has two Content-Disposition headers");
            parse_disposition(line.value, h);
            have_disposition = true;
        } else if (iequals(line.name, "content-type")) {
            if (have_type) refuse("part has two Content-Type headers");
            h.content_type = std::string(line.value);
            have_type = true;
        } else if (iequals(line.name, "content-transfer-encoding")) {
            refuse("Content-Transfer-Encoding is not allowed in multipart/form-data (RFC 7578)");
        }  // other headers are ignored (RFC 7578 §4.8)
    }
    if (!have_disposition) refuse("part has no Content-Disposition header");
    ++parts_;
    sink_.on_part_begin(h);
}

// string_view::find is linear here: it jumps between CRs (memchr), and the delimiter's only CR
// is its first byte, so a candidate's comparison never runs past the next candidate.
bool MultipartParser::parse_data() {
    const std::string_view v = pending();
    const size_t at = v.find(delimiter_);
    const size_t settled = at == std::string_view::npos ? settled_prefix(v) : at;
    const size_t skip = std::min(skip_, settled);
    if (settled > skip) sink_.on_part_data(v.data() + skip, settled - skip);
    skip_ -= skip;
    pos_ += settled;
    if (at == std::string_view::npos) return false;
    sink_.on_part_end();
    pos_ += delimiter_.size();
    enter_after_delimiter();
    return true;
}

}  // namespace fcgi
