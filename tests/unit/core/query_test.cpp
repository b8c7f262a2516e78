// Tests for core/query: percent-decoding, query strings, typed parameters, cookies, decimals.
#include "core/query.h"

#include <gtest/gtest.h>

#include <string>

#include "core/problem.h"

namespace core {
namespace {

using namespace std::string_literals;

template <class F>
core::ApiError error_of(F&& f) {
    try {
        f();
    } catch (const core::ApiError& e) {
        return e;
    }
    ADD_FAILURE() << "expected an ApiError";
    return core::ApiError(0, "", "");
}

// ----------------------------------------------------------------------------------------------
// percent_decode

TEST(PercentDecode, Decodes) {
    EXPECT_EQ(percent_decode("a%20b", false), "a b");
    EXPECT_EQ(percent_decode("a+b", true), "a b");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
    EXPECT_EQ(percent_decode("%2B", true), "+");  // an escaped plus stays a plus
    EXPECT_EQ(percent_decode("%c3%A9", false), "é");
    EXPECT_EQ(percent_decode("é", false), "é");        // raw UTF-8 passes through
    EXPECT_EQ(percent_decode("%2525", false), "%25");  // decoded once, not twice
    EXPECT_EQ(percent_decode("", false), "");
    EXPECT_EQ(percent_decode("%2e%2e%2f", false), "../");  // decoding is not path checking
}

TEST(PercentDecode, RefusesBadEscapesNulAndInvalidUtf8) {
    for (const std::string& in :
         {"%zz"s, "%4"s, "%"s, "a%"s, "%g0"s, "%0g"s, "% 1"s, "%00"s, "a\0b"s, "%C3%28"s, "%C0%AF"s,
          "%ED%A0%80"s, "%F4%90%80%80"s, "%FF"s, "\xC3\x28"s, "%E2%82"s}) {
        EXPECT_FALSE(percent_decode(in, true)) << in;
        EXPECT_FALSE(percent_decode(in, false)) << in;
    }
}

// ----------------------------------------------------------------------------------------------
// parse_query

TEST(ParseQuery, PairsInOrder) {
    const Params p = parse_query("b=two&a=1&c");
    ASSERT_EQ(p.items().size(), 3u);
    EXPECT_EQ(p.items()[0], (std::pair<std::string, std::string>{"b", "two"}));
    EXPECT_EQ(p.items()[1], (std::pair<std::string, std::string>{"a", "1"}));
    EXPECT_EQ(p.items()[2], (std::pair<std::string, std::string>{"c", ""}));
    EXPECT_EQ(p.get("a"), "1");
    EXPECT_EQ(p.get("c"), "");
    EXPECT_TRUE(p.has("c"));
    EXPECT_FALSE(p.has("d"));
    EXPECT_FALSE(p.has("A"));  // names are case-sensitive
}

TEST(ParseQuery, EmptyPiecesAreSkipped) {
    EXPECT_TRUE(parse_query("").items().empty());
    EXPECT_TRUE(parse_query("&&&").items().empty());
    EXPECT_EQ(parse_query("a=1&&b=2&").items().size(), 2u);
}

TEST(ParseQuery, DecodesNamesAndValues) {
    const Params p = parse_query("a+b=c+d&x%3D=1%262&q=%E2%82%AC&e=b=c");
    EXPECT_EQ(p.get("a b"), "c d");
    EXPECT_EQ(p.get("x="), "1&2");
    EXPECT_EQ(p.get("q"), "€");
    EXPECT_EQ(p.get("e"), "b=c");  // only the first '=' splits
}

TEST(ParseQuery, BadValueIs400NamingTheParameter) {
    for (const char* qs :
         {"q=%zz", "q=%4", "q=%", "q=%00", "q=%C3%28", "q=%C0%AF", "q=%ED%A0%80"}) {
        const core::ApiError e = error_of([&] { parse_query(qs); });
        EXPECT_EQ(e.status, 400) << qs;
        ASSERT_EQ(e.errors.size(), 1u) << qs;
        EXPECT_EQ(e.errors[0].field, "q") << qs;
    }
}

TEST(ParseQuery, BadNameIs400) {
    for (const std::string& qs : {"%zz=1"s, "%00=1"s, "%C3%28=1"s, "=1"s, "="s, "a=1&\0=2"s,
                                  std::string(129, 'n') + "=1"}) {
        EXPECT_EQ(error_of([&] { parse_query(qs); }).status, 400) << qs;
    }
    EXPECT_NO_THROW(parse_query(std::string(128, 'n') + "=1"));
    // The limit is on the decoded name: 128 escaped bytes are 384 raw ones.
    std::string escaped;
    for (int i = 0; i < 128; ++i) escaped += "%41";
    EXPECT_NO_THROW(parse_query(escaped + "=1"));
}

TEST(ParseQuery, DuplicateNamesAre400) {  // B26
    for (const char* qs :
         {"limit=10&limit=100000", "a=1&a=1", "a&a", "a=1&%61=2", "a+b=1&a%20b=2"}) {
        const core::ApiError e = error_of([&] { parse_query(qs); });
        EXPECT_EQ(e.status, 400) << qs;
        ASSERT_EQ(e.errors.size(), 1u) << qs;
    }
    EXPECT_EQ(error_of([] { parse_query("limit=10&limit=100000"); }).errors[0].field, "limit");
    EXPECT_EQ(parse_query("a=1&A=2").items().size(), 2u);
}

std::string many_params(size_t n) {
    std::string qs;
    for (size_t i = 0; i < n; ++i) qs += "p" + std::to_string(i) + "=" + std::to_string(i) + "&";
    return qs;
}

TEST(ParseQuery, AtMostSixtyFourParameters) {
    EXPECT_EQ(parse_query(many_params(kMaxParams)).items().size(), kMaxParams);
    EXPECT_EQ(error_of([] { parse_query(many_params(kMaxParams + 1)); }).status, 400);
    EXPECT_EQ(error_of([] { parse_query(many_params(10000)); }).status, 400);
}

// Decoding is not validation: these reach the handler as text, for allowlists and the router
// to refuse (B23, B24).
TEST(ParseQuery, HostileValuesAreJustText) {
    const Params p =
        parse_query("sort=created_at;DROP%20TABLE%20x&path=..%2f..%2fetc%2fpasswd&nl=%0a");
    EXPECT_EQ(p.get("sort"), "created_at;DROP TABLE x");  // ';' does not separate pairs
    EXPECT_EQ(p.get("path"), "../../etc/passwd");
    EXPECT_EQ(p.get("nl"), "\n");
    EXPECT_EQ(error_of([] { parse_query("path=a%00.wav"); }).errors[0].field, "path");
}

TEST(ParseQuery, FormIsTheSameParser) {
    EXPECT_EQ(parse_form("username=a%40b.io&password=p+w").get("password"), "p w");
}

// ----------------------------------------------------------------------------------------------
// int_param_or_throw / limit_or_throw

TEST(IntParam, DefaultWhenAbsent) {
    EXPECT_EQ(limit_or_throw(parse_query("")), 20);
    EXPECT_EQ(limit_or_throw(parse_query("x=1"), 50, 7), 7);
    EXPECT_EQ(int_param_or_throw(parse_query(""), "offset", 0, 1000, 0), 0);
}

TEST(IntParam, ReadsInRange) {
    EXPECT_EQ(limit_or_throw(parse_query("limit=1")), 1);
    EXPECT_EQ(limit_or_throw(parse_query("limit=100")), 100);
    EXPECT_EQ(limit_or_throw(parse_query("limit=050")), 50);
}

TEST(IntParam, RefusesWithTheParameterNamed) {  // B25
    for (const char* qs : {"limit=0", "limit=101", "limit=1000000", "limit=-1", "limit=%2B5",
                           "limit=+5", "limit=5+", "limit=", "limit=abc", "limit=1e2", "limit=0x10",
                           "limit=5.0", "limit=99999999999999999999", "limit=%205"}) {
        const core::ApiError e = error_of([&] { limit_or_throw(parse_query(qs)); });
        EXPECT_EQ(e.status, 400) << qs;
        ASSERT_EQ(e.errors.size(), 1u) << qs;
        EXPECT_EQ(e.errors[0].field, "limit") << qs;
    }
    EXPECT_EQ(error_of([] { int_param_or_throw(parse_query("offset=-1"), "offset", 0, 9, 0); })
                  .errors[0]
                  .field,
              "offset");
}

// ----------------------------------------------------------------------------------------------
// parse_decimal (CONTENT_LENGTH)

TEST(ParseDecimal, Accepts) {
    EXPECT_EQ(parse_decimal("0"), 0);
    EXPECT_EQ(parse_decimal("123"), 123);
    EXPECT_EQ(parse_decimal("007"), 7);
    EXPECT_EQ(parse_decimal("999999999999999999"), 999999999999999999);  // 18 digits
}

TEST(ParseDecimal, Refuses) {  // B66
    for (const std::string& s :
         {""s, "-1"s, "+5"s, " 5"s, "5 "s, "1 2"s, "0x1"s, "1e3"s, "1.0"s, "-0"s, "\t5"s, "5\n"s,
          "5\0"s, "9999999999999999999"s, "99999999999999999999"s, "٣"s, "１"s}) {
        EXPECT_FALSE(parse_decimal(s)) << s;
    }
}

// ----------------------------------------------------------------------------------------------
// Cookies

using Cookies = std::vector<std::pair<std::string, std::string>>;

TEST(Cookies, ParsesPairsInOrder) {
    EXPECT_EQ(parse_cookies("a=1; b=2"), (Cookies{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_cookies("a=1;b=2"), (Cookies{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_cookies(" \ta = 1 ;  b=2;"), (Cookies{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_cookies("__Host-rt=x.y-z_; e="), (Cookies{{"__Host-rt", "x.y-z_"}, {"e", ""}}));
}

TEST(Cookies, ValuesAreNotDecoded) {
    EXPECT_EQ(parse_cookies("a=%20+x; q=\"quoted\"; t=1=2"),
              (Cookies{{"a", "%20+x"}, {"q", "\"quoted\""}, {"t", "1=2"}}));
}

TEST(Cookies, FirstOccurrenceWins) {
    EXPECT_EQ(parse_cookies("a=1; a=2; A=3"), (Cookies{{"a", "1"}, {"A", "3"}}));
    EXPECT_EQ(cookie_value("a=1; a=2", "a"), "1");
}

TEST(Cookies, MalformedPiecesAreSkipped) {
    EXPECT_TRUE(parse_cookies("").empty());
    EXPECT_TRUE(parse_cookies(";;; ;").empty());
    EXPECT_EQ(parse_cookies("junk; =x; b=2"), (Cookies{{"b", "2"}}));
    EXPECT_EQ(parse_cookies("a b=1; c=2"), (Cookies{{"c", "2"}}));
    EXPECT_EQ(parse_cookies("a\x01=1; c=2"), (Cookies{{"c", "2"}}));
    EXPECT_EQ(parse_cookies("a\0=1; c=2"s), (Cookies{{"c", "2"}}));
    EXPECT_EQ(parse_cookies("a=1\x7f; c=2"), (Cookies{{"c", "2"}}));
    EXPECT_EQ(parse_cookies("a=x\0y; c=2"s), (Cookies{{"c", "2"}}));
    EXPECT_EQ(parse_cookies("a=\xC3\x28; c=2"), (Cookies{{"c", "2"}}));
    EXPECT_EQ(parse_cookies("\xC3\xA9=1; c=é"), (Cookies{{"c", "é"}}));  // names are tokens
    // A bad cookie with the name we want does not hide a good one after it.
    EXPECT_EQ(cookie_value("rt=\x01; rt=good", "rt"), "good");
}

TEST(Cookies, CookieValue) {
    EXPECT_EQ(cookie_value("a=1; rt=abc; b=2", "rt"), "abc");
    EXPECT_EQ(cookie_value("a=1", "rt"), std::nullopt);
    EXPECT_EQ(cookie_value("", "rt"), std::nullopt);
    EXPECT_EQ(cookie_value("RT=1", "rt"), std::nullopt);
    EXPECT_EQ(cookie_value("rt=", "rt"), "");
}

TEST(Cookies, ManyCookiesStayLinear) {  // B27: a 64 KiB Cookie header
    std::string header;
    for (int i = 0; header.size() < 64 * 1024; ++i)
        header += "c" + std::to_string(i % 5000) + "=v; ";
    const Cookies c = parse_cookies(header);
    EXPECT_EQ(c.size(), 5000u);
    EXPECT_EQ(c.front(), (std::pair<std::string, std::string>{"c0", "v"}));
}

}  // namespace
}  // namespace core
