// Tests for fcgi/multipart: boundary syntax, part framing, refusals, chunking, bounded memory.
#include "fcgi/multipart.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/problem.h"

namespace fcgi {
namespace {

using namespace std::string_literals;

const std::string kB = "----RostrumB0undary7MA4YWxk";  // browser-like boundary

// ----------------------------------------------------------------------------------------------
// Helpers

struct Part {
    PartHeaders headers;
    std::string data;
    bool ended = false;
};

// Records the callbacks and checks their order: begin, data*, end.
class Recorder : public PartSink {
  public:
    std::vector<Part> parts;

    void on_part_begin(const PartHeaders& h) override {
        EXPECT_TRUE(parts.empty() || parts.back().ended) << "begin inside a part";
        parts.push_back({h, {}, false});
    }
    void on_part_data(const char* data, size_t n) override {
        ASSERT_FALSE(parts.empty()) << "data before any part";
        EXPECT_FALSE(parts.back().ended) << "data after end";
        EXPECT_GT(n, 0u) << "empty data callback";
        parts.back().data.append(data, n);
    }
    void on_part_end() override {
        ASSERT_FALSE(parts.empty()) << "end before any part";
        EXPECT_FALSE(parts.back().ended) << "end twice";
        parts.back().ended = true;
    }
};

struct Outcome {
    std::vector<Part> parts;
    std::optional<std::string> error;  // the 400's detail
    size_t max_buffered = 0;           // after any feed()

    bool ok() const { return !error; }
    // Everything the callbacks said, in one comparable string.
    std::string describe() const {
        std::string s;
        for (const Part& p : parts) {
            s += "[" + p.headers.name + "|" +
                 (p.headers.filename ? "f:" + *p.headers.filename : "-") + "|" +
                 p.headers.content_type + "|" + std::to_string(p.data.size()) + "|" + p.data +
                 (p.ended ? "|end]" : "|open]");
        }
        return s + (error ? " ERROR " + *error : " OK");
    }
};

// Feeds `body` in chunks whose sizes `next` chooses, then calls finish().
Outcome run(std::string_view body, const std::function<size_t()>& next, MultipartLimits limits = {},
            const std::string& boundary = kB) {
    Recorder rec;
    Outcome out;
    try {
        MultipartParser parser(boundary, rec, limits);
        for (size_t off = 0; off < body.size();) {
            const size_t n = std::min(std::max<size_t>(next(), 1), body.size() - off);
            parser.feed(body.data() + off, n);
            off += n;
            out.max_buffered = std::max(out.max_buffered, parser.buffered());
        }
        parser.finish();
        EXPECT_EQ(parser.parts_seen(), rec.parts.size());
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 400);
        out.error = e.detail;
    }
    out.parts = std::move(rec.parts);
    return out;
}

Outcome parse(std::string_view body, MultipartLimits limits = {}, const std::string& b = kB) {
    return run(
        body, [&] { return body.size(); }, limits, b);
}

Outcome parse_bytewise(std::string_view body, MultipartLimits limits = {}) {
    return run(
        body, [] { return size_t{1}; }, limits);
}

// One part: delimiter line, header lines, blank line, data, and the CRLF of the next delimiter.
std::string part(const std::string& headers, const std::string& data, const std::string& b = kB) {
    return "--" + b + "\r\n" + headers + "\r\n\r\n" + data + "\r\n";
}

std::string field(const std::string& name, const std::string& value) {
    return part("Content-Disposition: form-data; name=\"" + name + "\"", value);
}

std::string close(const std::string& b = kB) {
    return "--" + b + "--\r\n";
}

std::string upload(const std::string& filename, const std::string& data) {
    return part("Content-Disposition: form-data; name=\"file\"; filename=\"" + filename +
                    "\"\r\nContent-Type: audio/wav",
                data) +
           close();
}

std::string error_of(std::string_view content_type) {
    try {
        multipart_boundary(content_type);
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 400);
        return e.detail;
    }
    ADD_FAILURE() << "expected a 400 for " << content_type;
    return {};
}

// Bodies used by the chunking property test: valid and invalid, every feature above.
std::vector<std::string> sample_bodies() {
    const std::string cd = "Content-Disposition: form-data; name=";
    return {
        field("a", "1") + close(),
        field("a", "1") + field("b", "two\r\nlines") + field("c", "") + close(),
        "preamble text\r\n" + field("x", "y") + close() + "epilogue\r\nmore",
        upload("take 1.wav", std::string(3000, 'x') + "--" + kB + "tail"),
        upload("a.bin", "\r\n--" + kB.substr(0, kB.size() - 1) + "\r\n-\r\n--"),
        upload("../../etc/cron.d/x", "\r\r\n\n\r\n-"),
        part(cd + "f; filename=\"C:\\boot.ini\"", "d") + close(),
        part(cd + "\"q\"", "") + part(cd + "\"r\"", "") + close(),
        part(cd + "\"h\"", "").substr(0, part(cd + "\"h\"", "").size() - 2) + "--" + kB + "--",
        "--" + kB + "   \t\r\n" + cd + "pad\r\n\r\nv\r\n--" + kB + "--",
        field("a", "1"),                                        // truncated
        field("a", std::string(100, 'z')).substr(0, 60),        // truncated in headers
        part("Content-Type: text/plain", "x") + close(),        // no disposition
        part("Content-Disposition: form-data", "x") + close(),  // no name
        part("Content-Disposition: attachment; name=a", "x") + close(),
        part(cd + "a\r\nContent-Transfer-Encoding: base64", "eA==") + close(),
        "--" + kB + "\nContent-Disposition: form-data; name=a\n\nx\n--" + kB + "--\n",
        part(cd + "a\r\nX-Long: " + std::string(9000, 'L'), "x") + close(),
        [&] {
            std::string s;
            for (int i = 0; i < 40; ++i) s += field("p" + std::to_string(i), "");
            return s + close();
        }(),
        field("a", "1") + "--" + kB + "X\r\n",
        "",
        "no delimiter at all",
    };
}

// ----------------------------------------------------------------------------------------------
// multipart_boundary

TEST(MultipartBoundary, PlainBoundary) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + kB), kB);
    EXPECT_EQ(multipart_boundary("multipart/form-data;boundary=abc"), "abc");
    EXPECT_EQ(multipart_boundary("  multipart/form-data ;  boundary = abc  "), "abc");
}

TEST(MultipartBoundary, QuotedBoundaryMayHoldSpacesAndSpecials) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"a b\""), "a b");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"'()+_,-./:=?\""), "'()+_,-./:=?");
}

TEST(MultipartBoundary, ParametersInAnyCaseAndOrder) {
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data; CharSet=utf-8; BOUNDARY=xyz"), "xyz");
    EXPECT_EQ(multipart_boundary("MULTIPART/FORM-DATA; Boundary=\"xyz\"; charset=\"utf-8\";"),
              "xyz");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----=_Part_0_1.2"),
              "----=_Part_0_1.2");  // unquoted '=' as some mail-derived clients send
}

TEST(MultipartBoundary, LengthLimits) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')),
              std::string(70, 'a'));
    EXPECT_NE(error_of("multipart/form-data; boundary=" + std::string(71, 'a')).find("70"),
              std::string::npos);
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=1"), "1");
    error_of("multipart/form-data; boundary=\"\"");
    error_of("multipart/form-data; boundary=");
}

TEST(MultipartBoundary, RefusesMissingBoundary) {
    EXPECT_NE(error_of("multipart/form-data").find("boundary"), std::string::npos);
    error_of("multipart/form-data; charset=utf-8");
    error_of("multipart/form-data; boundaryx=abc");
}

TEST(MultipartBoundary, RefusesCharactersOutsideBchars) {
    for (const std::string& b : {"a@b"s, "a{b"s, "a\\\\b"s, "\\\"ab"s, "caf\xC3\xA9"s, "a\tb"s,
                                 "a b "s, "a<b>"s, "a%b"s, "a;b"s, "a[b]"s, "a!b"s}) {
        error_of("multipart/form-data; boundary=\"" + b + "\"");
    }
    error_of("multipart/form-data; boundary=a\x01"s);
}

TEST(MultipartBoundary, RefusesOtherTypesAndMalformedValues) {
    error_of("multipart/mixed; boundary=abc");
    error_of("application/x-www-form-urlencoded");
    error_of("multipart/form-data-x; boundary=abc");
    error_of("");
    error_of("multipart/form-data; boundary=\"abc");            // unterminated quote
    error_of("multipart/form-data; boundary=abc; boundary=d");  // ambiguous
    error_of("multipart/form-data; boundary=abc junk");
    error_of("multipart/form-data; boundary");
    error_of("multipart/form-data boundary=abc");
}

TEST(MultipartParser, ConstructorRefusesBadBoundary) {
    Recorder rec;
    EXPECT_THROW(MultipartParser("", rec), core::ApiError);
    EXPECT_THROW(MultipartParser(std::string(71, 'a'), rec), core::ApiError);
    EXPECT_THROW(MultipartParser("a\r\nb", rec), core::ApiError);
}

// ----------------------------------------------------------------------------------------------
// Accepted bodies

TEST(MultipartParser, SingleField) {
    const Outcome o = parse(field("title", "Lecture 1") + close());
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 1u);
    EXPECT_EQ(o.parts[0].headers.name, "title");
    EXPECT_FALSE(o.parts[0].headers.filename);
    EXPECT_EQ(o.parts[0].headers.content_type, "");
    EXPECT_EQ(o.parts[0].data, "Lecture 1");
    EXPECT_TRUE(o.parts[0].ended);
}

TEST(MultipartParser, FileWithContentType) {
    const Outcome o = parse(upload("take 1.wav", "RIFF\0\0\0\0WAVE"s));
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 1u);
    EXPECT_EQ(o.parts[0].headers.name, "file");
    EXPECT_EQ(o.parts[0].headers.filename, "take 1.wav");
    EXPECT_EQ(o.parts[0].headers.content_type, "audio/wav");
    EXPECT_EQ(o.parts[0].data, "RIFF\0\0\0\0WAVE"s);
}

TEST(MultipartParser, SeveralPartsAndEmptyBodies) {
    const Outcome o = parse(field("a", "1") + field("empty", "") + field("b", "\r\n") +
                            field("c", "last") + close());
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 4u);
    EXPECT_EQ(o.parts[1].headers.name, "empty");
    EXPECT_EQ(o.parts[1].data, "");
    EXPECT_TRUE(o.parts[1].ended);
    EXPECT_EQ(o.parts[2].data, "\r\n");
    EXPECT_EQ(o.parts[3].data, "last");
}

TEST(MultipartParser, PreambleAndEpilogueIgnored) {
    const std::string body = "This is a preamble.\r\n--" + kB.substr(1) + "\r\n\r\n" +
                             field("a", "1") + close() + "epilogue --" + kB + "\r\njunk";
    const Outcome o = parse(body);
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 1u);
    EXPECT_EQ(o.parts[0].data, "1");
}

TEST(MultipartParser, FirstDelimiterWithOrWithoutLeadingCrlf) {
    EXPECT_TRUE(parse(field("a", "1") + close()).ok());
    EXPECT_TRUE(parse("\r\n" + field("a", "1") + close()).ok());
    // "--boundary" not at the start of a line is preamble, not a delimiter.
    EXPECT_FALSE(parse("x" + field("a", "1").substr(0, 4) + "zz").ok());
}

TEST(MultipartParser, CloseWithoutCrlfAndNoParts) {
    const std::string body = field("a", "1");
    EXPECT_TRUE(parse(body + "--" + kB + "--").ok());
    const Outcome none = parse("--" + kB + "--");
    ASSERT_TRUE(none.ok()) << *none.error;
    EXPECT_TRUE(none.parts.empty());
}

TEST(MultipartParser, TransportPaddingAfterDelimiter) {
    const Outcome o = parse("--" + kB +
                            " \t \r\nContent-Disposition: form-data; name=a\r\n\r\n1"
                            "\r\n--" +
                            kB +
                            "\t\r\nContent-Disposition: form-data; name=b\r\n\r\n2"
                            "\r\n--" +
                            kB + "--  \r\n");
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 2u);
    EXPECT_EQ(o.parts[1].data, "2");
}

TEST(MultipartParser, MissingAndEmptyFilename) {
    const Outcome o = parse(part("Content-Disposition: form-data; name=\"f\"; filename=\"\"", "") +
                            field("plain", "v") + close());
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 2u);
    ASSERT_TRUE(o.parts[0].headers.filename);
    EXPECT_EQ(*o.parts[0].headers.filename, "");
    EXPECT_FALSE(o.parts[1].headers.filename);
}

TEST(MultipartParser, HostileFilenamesPassThroughRaw) {
    for (const std::string& name :
         {"../../../etc/cron.d/x"s, "C:\\boot.ini"s, "..\\..\\win.ini"s, "a%00.wav"s, ".."s,
          "<script>.wav"s, "evil\xE2\x80\xAEvaw.exe"s, std::string(1000, 'n') + ".wav"}) {
        const Outcome o = parse(upload(name, "data"));
        ASSERT_TRUE(o.ok()) << name << ": " << *o.error;
        ASSERT_EQ(o.parts.size(), 1u);
        EXPECT_EQ(o.parts[0].headers.filename, name);
    }
}

TEST(MultipartParser, QuotedStringEscapesAndUnquotedTokens) {
    const Outcome o = parse(
        part("Content-Disposition: form-data; name=\"say \\\"hi\\\"\"; filename=\"C:\\\\x.wav\"",
             "1") +
        part("content-disposition: Form-Data;name=plain;filename=a.wav", "2") +
        part("Content-Disposition: form-data; name = \"spaced\" ; filename = \"s.wav\"", "3") +
        close());
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 3u);
    EXPECT_EQ(o.parts[0].headers.name, "say \"hi\"");
    EXPECT_EQ(o.parts[0].headers.filename, "C:\\x.wav");
    EXPECT_EQ(o.parts[1].headers.name, "plain");
    EXPECT_EQ(o.parts[1].headers.filename, "a.wav");
    EXPECT_EQ(o.parts[2].headers.name, "spaced");
}

TEST(MultipartParser, ExtendedFilenameDecoded) {
    const Outcome o = parse(
        part("Content-Disposition: form-data; name=f; filename*=UTF-8''%E2%82%AC%20rates.wav", "") +
        part("Content-Disposition: form-data; name=g; filename=\"plain.wav\"; "
             "filename*=utf-8'en'other.wav",
             "") +
        close());
    ASSERT_TRUE(o.ok()) << *o.error;
    EXPECT_EQ(o.parts[0].headers.filename, "\xE2\x82\xAC rates.wav");
    EXPECT_EQ(o.parts[1].headers.filename, "plain.wav");  // RFC 7578: filename is the one used
    for (const std::string& bad : {"UTF-8''%zz"s, "latin1''x"s, "x"s, "UTF-8''%0A"s}) {
        EXPECT_FALSE(
            parse(part("Content-Disposition: form-data; name=f; filename*=" + bad, "") + close())
                .ok())
            << bad;
    }
}

TEST(MultipartParser, HeaderNamesCaseInsensitiveOthersIgnored) {
    const Outcome o = parse(part("CONTENT-TYPE:  text/plain; charset=utf-8 \r\n"
                                 "X-Custom: whatever\r\n"
                                 "cOnTeNt-DiSpOsItIoN: form-data; NAME=\"n\"",
                                 "v") +
                            close());
    ASSERT_TRUE(o.ok()) << *o.error;
    EXPECT_EQ(o.parts[0].headers.name, "n");
    EXPECT_EQ(o.parts[0].headers.content_type, "text/plain; charset=utf-8");
}

TEST(MultipartParser, BoundaryTextWithoutCrlfIsData) {
    const std::string data = "a--" + kB + "\r\nx--" + kB + "--\n--" + kB + "\r--" + kB;
    const Outcome o = parse(upload("b.bin", data));
    ASSERT_TRUE(o.ok()) << *o.error;
    EXPECT_EQ(o.parts[0].data, data);
}

TEST(MultipartParser, PartialDelimiterIsData) {
    const std::string data = "a\r\n--" + kB.substr(0, kB.size() - 1) + "\r\n--\r\n\r\n-" + "\r";
    const Outcome o = parse(upload("p.bin", data));
    ASSERT_TRUE(o.ok()) << *o.error;
    EXPECT_EQ(o.parts[0].data, data);
    // The same ending just before the real delimiter.
    const Outcome t = parse(upload("p.bin", "x\r\n--" + kB.substr(0, 5)));
    ASSERT_TRUE(t.ok()) << *t.error;
    EXPECT_EQ(t.parts[0].data, "x\r\n--" + kB.substr(0, 5));
}

TEST(MultipartParser, DelimiterRightAfterHeadersEndsAnEmptyPart) {
    // RFC 2046 body-part := headers [CRLF *OCTET]: the blank line's CRLF starts the delimiter.
    const Outcome o =
        parse("--" + kB + "\r\nContent-Disposition: form-data; name=a\r\n\r\n--" + kB +
              "\r\nContent-Disposition: form-data; name=b\r\n\r\nB\r\n" + close());
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 2u);
    EXPECT_EQ(o.parts[0].data, "");
    EXPECT_EQ(o.parts[1].data, "B");
}

TEST(MultipartParser, SameNameTwiceReportsBoth) {
    const Outcome o =
        parse(part("Content-Disposition: form-data; name=file; filename=a", "A") +
              part("Content-Disposition: form-data; name=file; filename=b", "B") + close());
    ASSERT_TRUE(o.ok()) << *o.error;
    ASSERT_EQ(o.parts.size(), 2u);
    EXPECT_EQ(o.parts[0].headers.name, o.parts[1].headers.name);
}

TEST(MultipartParser, DataIsPassedOnAsSoonAsItCannotBeADelimiter) {
    Recorder rec;
    MultipartParser p(kB, rec);
    const std::string head = "--" + kB + "\r\nContent-Disposition: form-data; name=a\r\n\r\n";
    p.feed(head.data(), head.size());
    p.feed("hello", 5);
    ASSERT_EQ(rec.parts.size(), 1u);
    EXPECT_EQ(rec.parts[0].data, "hello");
    EXPECT_EQ(p.buffered(), 0u);
    p.feed("\r\n--", 4);  // might be a delimiter: held back
    EXPECT_EQ(rec.parts[0].data, "hello");
    EXPECT_EQ(p.buffered(), 4u);
    p.feed("x", 1);  // now it cannot be
    EXPECT_EQ(rec.parts[0].data, "hello\r\n--x");
    const std::string tail = "\r\n--" + kB + "--";
    p.feed(tail.data(), tail.size());
    p.finish();
    EXPECT_TRUE(rec.parts[0].ended);
    p.feed("epilogue", 8);  // ignored after the close
    p.finish();
}

TEST(MultipartParser, HeaderSectionExactlyAtTheLimit) {
    const std::string hdr = "Content-Disposition: form-data; name=a";
    const size_t section = hdr.size() + 4;  // the line's CRLF and the blank line
    const std::string body = part(hdr, "x") + close();
    EXPECT_TRUE(parse(body, {16, section}).ok());
    const Outcome o = parse(body, {16, section - 1});
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error->find("longer than"), std::string::npos) << *o.error;
}

TEST(MultipartParser, PartCapExactlyReached) {
    std::string body;
    for (int i = 0; i < 16; ++i) body += field("p" + std::to_string(i), "");
    const Outcome o = parse(body + close());
    ASSERT_TRUE(o.ok()) << *o.error;
    EXPECT_EQ(o.parts.size(), 16u);
}

// ----------------------------------------------------------------------------------------------
// Refused bodies

void expect_refused(const std::string& body, const std::string& fragment,
                    MultipartLimits limits = {}) {
    for (const Outcome& o : {parse(body, limits), parse_bytewise(body, limits)}) {
        ASSERT_FALSE(o.ok()) << "accepted: " << o.describe();
        EXPECT_NE(o.error->find(fragment), std::string::npos) << *o.error;
    }
}

TEST(MultipartRefusal, TruncatedBody) {
    expect_refused(field("a", "1"), "closing delimiter");
    expect_refused(field("a", "1") + "--" + kB, "part header");  // close without "--"
    expect_refused(field("a", "1") + "--" + kB + "-", "part header");
    expect_refused("--" + kB + "\r\nContent-Disposition: form-da", "inside a part header");
    expect_refused("", "no delimiter");
    expect_refused("just text\r\n", "no delimiter");
    expect_refused("--" + kB.substr(0, 10), "no delimiter");
}

TEST(MultipartRefusal, FinishThrowsAndParserStaysSpent) {
    Recorder rec;
    MultipartParser p(kB, rec);
    const std::string body = field("a", "1");
    p.feed(body.data(), body.size());
    EXPECT_THROW(p.finish(), core::ApiError);
    EXPECT_THROW(p.finish(), core::ApiError);
    EXPECT_THROW(p.feed("x", 1), core::ApiError);
}

TEST(MultipartRefusal, MissingDispositionOrName) {
    expect_refused(part("Content-Type: text/plain", "x") + close(), "no Content-Disposition");
    expect_refused(part("Content-Disposition: form-data", "x") + close(), "no name");
    expect_refused(part("Content-Disposition: form-data; filename=a.wav", "x") + close(),
                   "no name");
    expect_refused(part("Content-Disposition: form-data; name=\"\"", "x") + close(), "no name");
    expect_refused("--" + kB + "\r\n\r\nbody\r\n" + close(), "no Content-Disposition");
}

TEST(MultipartRefusal, DispositionNotFormData) {
    expect_refused(part("Content-Disposition: attachment; name=a", "x") + close(), "not form-data");
    expect_refused(part("Content-Disposition: inline", "x") + close(), "not form-data");
    expect_refused(part("Content-Disposition: form-datax; name=a", "x") + close(), "not form-data");
}

TEST(MultipartRefusal, MalformedDisposition) {
    for (const std::string& v :
         {"form-data; name=\"a"s, "form-data; name=a; name=b"s, "form-data; name"s,
          "form-data name=a"s, "; name=a"s, "form-data; name=a b"s}) {
        expect_refused(part("Content-Disposition: " + v, "x") + close(), "Content-Disposition");
    }
}

TEST(MultipartRefusal, DuplicateHeaders) {
    expect_refused(part("Content-Disposition: form-data; name=a\r\n"
                        "Content-Disposition: form-data; name=b",
                        "x") +
                       close(),
                   "two Content-Disposition");
    expect_refused(part("Content-Disposition: form-data; name=a\r\nContent-Type: a/b\r\n"
                        "content-type: c/d",
                        "x") +
                       close(),
                   "two Content-Type");
}

TEST(MultipartRefusal, MalformedHeaderLines) {
    const std::string cd = "Content-Disposition: form-data; name=a\r\n";
    expect_refused(part(cd + "no colon here", "x") + close(), "malformed part header");
    expect_refused(part(cd + ": empty name", "x") + close(), "malformed part header");
    expect_refused(part(cd + "Bad Name: v", "x") + close(), "malformed part header");
    expect_refused(part(cd + " folded", "x") + close(), "folded");
    expect_refused(part(cd + "X-A: a\rb", "x") + close(), "control character");
    expect_refused(part(cd + "X-A: a\0b"s, "x") + close(), "control character");
}

TEST(MultipartRefusal, PartCountBomb) {
    std::string body;
    for (int i = 0; i < 1000; ++i) body += field("p", "");
    body += close();
    const auto t0 = std::chrono::steady_clock::now();
    const Outcome o = parse(body);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(o.ok());
    EXPECT_NE(o.error->find("more than 16 parts"), std::string::npos) << *o.error;
    EXPECT_EQ(o.parts.size(), 16u);
    EXPECT_LT(elapsed, std::chrono::milliseconds(100));
    // With a high cap the 1,000 parts parse, in linear time even in one chunk.
    const Outcome all = parse(body, {100000, 8192});
    ASSERT_TRUE(all.ok()) << *all.error;
    EXPECT_EQ(all.parts.size(), 1000u);
}

TEST(MultipartRefusal, HugeHeaderLine) {
    const std::string body =
        part("Content-Disposition: form-data; name=a\r\nX-Pad: " + std::string(100 * 1024, 'h'),
             "x") +
        close();
    expect_refused(body, "part headers longer than 8192 bytes");
    // Bounded: never more than the header limit held, however the line is fed.
    const Outcome o = run(body, [] { return size_t{1000}; });
    EXPECT_LE(o.max_buffered, 8192u + 1000u);
}

TEST(MultipartRefusal, LfOnlyLineEndings) {
    const std::string lf =
        "--" + kB + "\nContent-Disposition: form-data; name=a\n\nx\n--" + kB + "--\n";
    expect_refused(lf, "CRLF");
    // CRLF delimiter line but LF header lines.
    expect_refused("--" + kB + "\r\nContent-Disposition: form-data; name=a\n\nx\r\n" + close(),
                   "CRLF");
    expect_refused("--" + kB + "\r\nContent-Disposition: form-data; name=a\r\n\nx\r\n" + close(),
                   "CRLF");
    // LF everywhere with the delimiter not at the start: no delimiter is ever found.
    expect_refused("preamble\n--" + kB + "\nContent-Disposition: form-data; name=a\n\nx\n", "CRLF");
}

TEST(MultipartRefusal, ContentTransferEncoding) {
    for (const std::string& cte : {"base64"s, "quoted-printable"s, "binary"s}) {
        expect_refused(part("Content-Disposition: form-data; name=a; filename=a.wav\r\n"
                            "Content-Transfer-Encoding: " +
                                cte,
                            "UklGRg==") +
                           close(),
                       "Content-Transfer-Encoding");
    }
}

TEST(MultipartRefusal, DelimiterFollowedByJunk) {
    expect_refused(field("a", "1") + "--" + kB + "X\r\n", "followed by other text");
    expect_refused(field("a", "1") + "--" + kB + "-x", "malformed multipart delimiter");
    expect_refused(field("a", "1") + "--" + kB + " -\r\n", "followed by other text");
    expect_refused(field("a", "1") + "--" + kB + "\rX", "bare CR");
    expect_refused(field("a", "1") + "--" + kB + std::string(9000, ' ') + "\r\n",
                   "delimiter line too long");
}

TEST(MultipartRefusal, CallbackExceptionsPropagate) {
    struct Throwing : Recorder {
        void on_part_data(const char*, size_t) override { throw std::runtime_error("disk full"); }
    } sink;
    MultipartParser p(kB, sink);
    const std::string body = upload("a.wav", "data");
    EXPECT_THROW(p.feed(body.data(), body.size()), std::runtime_error);
    EXPECT_THROW(p.feed("x", 1), core::ApiError);
}

// ----------------------------------------------------------------------------------------------
// Properties: chunking, memory, throughput

TEST(MultipartProperty, AnyChunkingGivesTheSameCallbacks) {
    std::mt19937 rng(20240601);
    const MultipartLimits limits{32, 8192};
    for (const std::string& body : sample_bodies()) {
        const Outcome whole = parse(body, limits);
        EXPECT_EQ(parse_bytewise(body, limits).describe(), whole.describe());
        for (const size_t max_chunk : {2u, 7u, 64u, 1000u}) {
            for (int round = 0; round < 25; ++round) {
                std::uniform_int_distribution<size_t> size(1, max_chunk);
                const Outcome o = run(
                    body, [&] { return size(rng); }, limits);
                ASSERT_EQ(o.describe(), whole.describe()) << "max chunk " << max_chunk;
                EXPECT_LE(o.max_buffered, limits.max_header_bytes + kB.size() + 4);
            }
        }
    }
}

TEST(MultipartProperty, SampleBodiesHaveTheExpectedVerdicts) {
    size_t accepted = 0;
    for (const std::string& body : sample_bodies()) accepted += parse(body, {32, 8192}).ok();
    EXPECT_EQ(accepted, 10u);  // the first ten samples are valid, the rest are not
}

// Counts bytes without keeping them, like a sink streaming to disk.
class CountingSink : public PartSink {
  public:
    size_t bytes = 0;
    size_t parts = 0;
    void on_part_begin(const PartHeaders&) override { ++parts; }
    void on_part_data(const char*, size_t n) override { bytes += n; }
    void on_part_end() override {}
};

TEST(MultipartProperty, FiftyMegabytesInSixtyFourKibChunks) {
    constexpr size_t kData = 50u * 1024 * 1024;
    std::string body = "--" + kB +
                       "\r\nContent-Disposition: form-data; name=\"file\"; "
                       "filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n";
    const size_t head = body.size();
    body.resize(head + kData);
    std::mt19937_64 rng(7);
    for (size_t i = head; i + 8 <= body.size(); i += 8) {
        const uint64_t r = rng();
        std::memcpy(&body[i], &r, 8);
    }
    // Sprinkle near-delimiters so the partial-match path runs too.
    for (size_t i = head + 1000; i + 64 < body.size(); i += 1 << 20)
        body.replace(i, 20, "\r\n--" + kB.substr(0, 16));
    body += "\r\n" + close();

    CountingSink sink;
    MultipartParser p(kB, sink);
    size_t max_buffered = 0;
    constexpr size_t kChunk = 64 * 1024;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t off = 0; off < body.size(); off += kChunk) {
        p.feed(body.data() + off, std::min(kChunk, body.size() - off));
        max_buffered = std::max(max_buffered, p.buffered());
    }
    p.finish();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(sink.parts, 1u);
    EXPECT_EQ(sink.bytes, kData);
    EXPECT_LT(max_buffered, kB.size() + 4);  // at most a partial delimiter between feeds
    const double mbps = static_cast<double>(body.size()) / (1024.0 * 1024.0) / s;
    std::printf("[ throughput ] 50 MiB in 64 KiB chunks: %.0f MiB/s, max buffered %zu bytes\n",
                mbps, max_buffered);
    RecordProperty("mib_per_s", static_cast<int>(mbps));
}

}  // namespace
}  // namespace fcgi
