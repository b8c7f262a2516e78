// libFuzzer target for fcgi/multipart: first input line = Content-Type, the rest = the body.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.h"
#include "fcgi/multipart.h"

namespace {

// Small limits so that inputs of a few KiB reach both caps.
constexpr fcgi::MultipartLimits kLimits{8, 512};

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_multipart invariant broken: %s\n", what);
    std::abort();
}

struct Part {
    fcgi::PartHeaders headers;
    std::string data;
    bool ended = false;
};

struct Result {
    std::vector<Part> parts;
    std::optional<std::string> error;

    bool operator==(const Result& o) const {
        if (error != o.error || parts.size() != o.parts.size()) return false;
        for (size_t i = 0; i < parts.size(); ++i) {
            const Part& a = parts[i];
            const Part& b = o.parts[i];
            if (a.headers.name != b.headers.name || a.headers.filename != b.headers.filename ||
                a.headers.content_type != b.headers.content_type || a.data != b.data ||
                a.ended != b.ended)
                return false;
        }
        return true;
    }
};

// Records the callbacks and aborts when they come out of order.
class Recorder : public fcgi::PartSink {
  public:
    explicit Recorder(Result& r) : r_(r) {}
    void on_part_begin(const fcgi::PartHeaders& h) override {
        require(r_.parts.empty() || r_.parts.back().ended, "part begins inside a part");
        require(!h.name.empty(), "part without a name reported");
        r_.parts.push_back({h, {}, false});
    }
    void on_part_data(const char* data, size_t n) override {
        require(!r_.parts.empty() && !r_.parts.back().ended, "data outside a part");
        require(n > 0, "empty data callback");
        r_.parts.back().data.append(data, n);
    }
    void on_part_end() override {
        require(!r_.parts.empty() && !r_.parts.back().ended, "part end outside a part");
        r_.parts.back().ended = true;
    }

  private:
    Result& r_;
};

// Chunk sizes come from the body's own bytes, so the fuzzer mutates splits and content at once.
size_t chunk_at(std::string_view body, size_t off, size_t salt) {
    return 1 + (static_cast<uint8_t>(body[(off * 7 + salt) % body.size()]) + salt) % 97;
}

Result parse(const std::string& boundary, std::string_view body, size_t salt,
             const fcgi::MultipartLimits& limits = kLimits) {
    Result r;
    Recorder rec(r);
    try {
        fcgi::MultipartParser parser(boundary, rec, limits);
        for (size_t off = 0; off < body.size();) {
            const size_t n =
                salt == 0 ? body.size() : std::min(chunk_at(body, off, salt), body.size() - off);
            parser.feed(body.data() + off, n);
            off += n;
            require(parser.buffered() <= limits.max_header_bytes + boundary.size() + 4,
                    "buffer grew past the header limit + delimiter");
        }
        parser.finish();
        require(parser.parts_seen() == r.parts.size(), "parts_seen disagrees with callbacks");
    } catch (const core::ApiError& e) {
        require(e.status == 400, "refusal with a status other than 400");
        r.error = e.detail;
    }
    require(r.parts.size() <= limits.max_parts, "more parts than max_parts");
    return r;
}

void check_ranges(const Result& r, std::string_view body) {
    size_t total = 0;
    size_t from = 0;
    for (const Part& p : r.parts) {
        total += p.data.size();
        const size_t at = body.find(p.data, from);
        require(at != std::string_view::npos, "part data is not a range of the body, in order");
        from = at + p.data.size();
    }
    require(total <= body.size(), "more data bytes than body bytes");
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// An accepted body, written out again by a simple encoder, must parse to the same parts. The
// encoder's headers can be longer than the originals (quoting doubles every backslash, an
// unquoted or filename* value gains quotes), so the second parse allows more header bytes: the
// invariant is about content, and the header cap has its own checks above.
void check_round_trip(const std::string& boundary, const Result& r) {
    std::string body;
    for (const Part& p : r.parts) {
        body +=
            "--" + boundary + "\r\nContent-Disposition: form-data; name=" + quote(p.headers.name);
        if (p.headers.filename) body += "; filename=" + quote(*p.headers.filename);
        body += "\r\n";
        if (!p.headers.content_type.empty()) body += "Content-Type: " + p.headers.content_type;
        if (!p.headers.content_type.empty()) body += "\r\n";
        body += "\r\n" + p.data + "\r\n";
    }
    body += "--" + boundary + "--\r\n";
    const fcgi::MultipartLimits roomy{kLimits.max_parts, 4 * kLimits.max_header_bytes};
    const Result again = parse(boundary, body, 0, roomy);
    require(!again.error, "re-encoded accepted body is refused");
    require(again == r, "re-encoded accepted body parses differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    std::string_view content_type = input.substr(0, nl);
    if (!content_type.empty() && content_type.back() == '\r') content_type.remove_suffix(1);
    const std::string_view body = input.substr(nl + 1);

    std::string boundary;
    try {
        boundary = fcgi::multipart_boundary(content_type);
    } catch (const core::ApiError& e) {
        require(e.status == 400, "multipart_boundary refused with a status other than 400");
        return 0;
    }
    require(!boundary.empty() && boundary.size() <= 70, "boundary length out of range");

    const Result whole = parse(boundary, body, 0);
    check_ranges(whole, body);
    for (const size_t salt : {1u, 2u}) {
        require(parse(boundary, body, salt) == whole, "chunked feed differs from one feed");
    }
    if (body.size() <= 4096) {
        Result bytewise;
        {
            // One byte at a time: the hardest split for the delimiter search.
            Recorder rec(bytewise);
            try {
                fcgi::MultipartParser parser(boundary, rec, kLimits);
                for (const char c : body) parser.feed(&c, 1);
                parser.finish();
            } catch (const core::ApiError& e) {
                bytewise.error = e.detail;
            }
        }
        require(bytewise == whole, "byte-at-a-time feed differs from one feed");
    }
    if (!whole.error) check_round_trip(boundary, whole);
    return 0;
}
