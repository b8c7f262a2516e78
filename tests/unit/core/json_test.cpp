// Tests for core/json: the strict parser's refusals, ObjectReader's field rules, JsonWriter.
#include "core/json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/problem.h"

namespace core {
namespace {

using namespace std::string_literals;

// The ApiError that f throws; a test failure (and a status of 0) if it throws none.
template <class F>
ApiError error_of(F&& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e;
    }
    ADD_FAILURE() << "expected an ApiError";
    return ApiError(0, "", "");
}

std::string nested(size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

// `{"k0":0,"k1":0,...` without the closing brace: big objects take another path in the check.
std::string object_with_keys(int n) {
    std::string s = "{";
    for (int i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    return s;
}

const cJSON* item(const JsonPtr& root, const char* key) {
    return cJSON_GetObjectItemCaseSensitive(root.get(), key);
}

// ----------------------------------------------------------------------------------------------
// parse_json_strict: everything here must be refused with 400.

struct Bad {
    const char* name;
    std::string text;
};

class RefusedJson : public ::testing::TestWithParam<Bad> {};

TEST_P(RefusedJson, Is400) {
    const ApiError e = error_of([&] { parse_json_strict(GetParam().text); });
    EXPECT_EQ(e.status, 400) << GetParam().name;
    EXPECT_FALSE(e.detail.empty());
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Traps, RefusedJson, ::testing::Values(
    Bad{"b01_truncated_object", "{"},
    Bad{"b02_trailing_comma_at_end", R"({"title":"a",)"},
    Bad{"b03_empty", ""},
    Bad{"b03_only_whitespace", " \r\n\t"},
    Bad{"b05_5000_open_brackets", std::string(5000, '[')},
    Bad{"b05_5000_balanced", nested(5000)},
    Bad{"depth_65", nested(65)},
    Bad{"depth_65_objects", [] {
        std::string s;
        for (int i = 0; i < 65; ++i) s += R"({"a":)";
        return s + "1" + std::string(65, '}');
    }()},
    Bad{"b06_duplicate_key", R"({"title":"a","title":"b"})"},
    Bad{"b07_duplicate_key_other_case", R"({"Role":"admin","role":"member"})"},
    Bad{"duplicate_key_nested", R"({"a":[{"x":1,"X":2}]})"},
    Bad{"duplicate_key_escaped", R"({"role":1,"\u0052ole":2})"},
    Bad{"duplicate_key_in_big_object", object_with_keys(40) + R"(,"K39":0})"},
    Bad{"b11_nul_in_key", R"({"ti\u0000tle":"a"})"},
    Bad{"b11_nul_in_value", R"({"title":"ti\u0000tle"})"},
    Bad{"nul_after_escaped_backslash", R"(["\\\u0000"])"},
    Bad{"raw_nul_in_string", "[\"a\0b\"]"s},
    Bad{"raw_nul_after_value", "[1]\0"s},
    Bad{"raw_nul_then_garbage", "[1]\0xyz"s},
    Bad{"b12_invalid_utf8", "{\"title\":\"\xC3\x28\"}"},
    Bad{"b12_overlong_slash", "{\"title\":\"\xC0\xAF\"}"},
    Bad{"overlong_3_byte", "[\"\xE0\x80\xAF\"]"},
    Bad{"raw_surrogate_cesu8", "[\"\xED\xA0\x80\"]"},
    Bad{"above_u10ffff", "[\"\xF4\x90\x80\x80\"]"},
    Bad{"lone_ff_byte", "[\"\xFF\"]"},
    Bad{"truncated_utf8_at_end", "\"\xE2\x82"},
    Bad{"invalid_utf8_in_key", "{\"\xC3\x28\":1}"},
    Bad{"b13_lone_high_surrogate", R"(["\ud800"])"},
    Bad{"lone_low_surrogate", R"(["\udc00"])"},
    Bad{"high_surrogate_then_bmp", R"(["\ud800\u0041"])"},
    Bad{"high_surrogate_then_text", R"(["\uD800x"])"},
    Bad{"surrogates_reversed", R"(["\udc00\ud800"])"},
    Bad{"b10_1e309", R"({"n":1e309})"},
    Bad{"minus_1e309", R"({"n":-1e309})"},
    Bad{"root_1e400", "1e400"},
    Bad{"5000_digits", std::string(5000, '9')},
    Bad{"b15_trailing_garbage", R"({"a":1}xyz)"},
    Bad{"trailing_garbage_after_space", R"({"a":1} x)"},
    // Trailing values made of bytes JSON allows: only require_null_terminated catches these.
    Bad{"two_values", R"({"a":1}{"b":2})"},
    Bad{"trailing_true", R"({"a":1} true)"},
    Bad{"trailing_number", "[1] 2"},
    Bad{"trailing_string", R"("a""b")"},
    Bad{"trailing_comma", "[1],"},
    Bad{"leading_zero", "[01]"},
    Bad{"negative_leading_zero", "[-01]"},
    Bad{"bare_dot_fraction", "[1.]"},
    Bad{"dot_first", "[.5]"},
    Bad{"plus_sign", "[+1]"},
    Bad{"lone_minus", "[-]"},
    Bad{"empty_exponent", "[1e]"},
    Bad{"dot_before_exponent", "[1.e5]"},
    Bad{"two_dots", "[1.2.3]"},
    Bad{"hex_number", "[0x10]"},
    Bad{"nan", "[NaN]"},
    Bad{"infinity", "[Infinity]"},
    Bad{"object_trailing_comma", R"({"a":1,})"},
    Bad{"array_trailing_comma", "[1,]"},
    Bad{"single_quotes", "{'a':1}"},
    Bad{"unquoted_key", "{a:1}"},
    Bad{"missing_colon", R"({"a" 1})"},
    Bad{"raw_tab_in_string", "[\"a\tb\"]"},
    Bad{"raw_newline_in_string", "[\"a\nb\"]"},
    Bad{"control_byte_as_whitespace", "\x01[1]"},
    Bad{"vertical_tab_as_whitespace", "[1,\x0b 2]"},
    Bad{"utf8_bom", "\xEF\xBB\xBF{}"},
    Bad{"invalid_escape", R"(["\x41"])"},
    Bad{"short_u_escape", R"(["\u12"])"},
    Bad{"non_hex_u_escape", R"(["\u12G4"])"},
    Bad{"line_comment", "// c\n{}"},
    Bad{"block_comment", "/*c*/{}"},
    Bad{"unbalanced_close", "[]]"},
    Bad{"close_first", "]["},
    Bad{"truncated_true", "[tru]"},
    Bad{"misspelled_null", "[nul1]"},
    Bad{"unterminated_string", R"(["abc)"},
    Bad{"unterminated_escape", R"(["abc\)"}),
    [](const ::testing::TestParamInfo<Bad>& info) { return std::string(info.param.name); });
// clang-format on

// ----------------------------------------------------------------------------------------------
// parse_json_strict: accepted input, and what it decodes to.

TEST(ParseJsonStrict, AcceptsAnyRootValue) {
    for (const char* text : {"{}", "[]", "\"x\"", "null", "true", "0", "-1.5e-3", " {\"a\":1}\n"}) {
        EXPECT_NO_THROW(parse_json_strict(text)) << text;
    }
}

TEST(ParseJsonStrict, DepthLimitIsSixtyFour) {
    EXPECT_NO_THROW(parse_json_strict(nested(64)));
    EXPECT_THROW(parse_json_strict(nested(65)), ApiError);
}

TEST(ParseJsonStrict, EscapedBackslashBeforeU0000IsText) {
    // `\\u0000` is a backslash followed by the letters u0000, which is fine.
    const JsonPtr root = parse_json_strict(R"({"a":"x\\u0000y"})");
    EXPECT_STREQ(cJSON_GetStringValue(item(root, "a")), "x\\u0000y");
}

TEST(ParseJsonStrict, DecodesEscapesAndKeepsUtf8) {
    const JsonPtr root = parse_json_strict(R"({"e":"\uD83D\uDE00 \u00e9 é \/ \"q\" \t"})");
    EXPECT_STREQ(cJSON_GetStringValue(item(root, "e")), "\xF0\x9F\x98\x80 \xC3\xA9 é / \"q\" \t");
}

TEST(ParseJsonStrict, BigObjectsWithDistinctKeys) {
    for (int n : {16, 17, 1000}) EXPECT_NO_THROW(parse_json_strict(object_with_keys(n) + "}"));
}

TEST(ParseJsonStrict, KeysThatDifferOnlyBeyondAsciiAreNotDuplicates) {
    EXPECT_NO_THROW(parse_json_strict(R"({"é":1,"É":2,"a":3,"b":{"a":4}})"));
}

TEST(ParseJsonStrict, NumbersAtTheEdges) {
    const JsonPtr root = parse_json_strict(R"({"a":1e308,"b":-0,"c":1E+2,"d":5e-324,"e":1e-400})");
    EXPECT_EQ(item(root, "a")->valuedouble, 1e308);
    EXPECT_EQ(item(root, "c")->valuedouble, 100);
    EXPECT_EQ(item(root, "e")->valuedouble, 0);  // underflow to 0 is finite: accepted
}

TEST(ParseJsonStrict, ErrorSaysWhereAndWhat) {
    const ApiError e = error_of([] { parse_json_strict(R"({"a":"x\u0000"})"); });
    EXPECT_NE(e.detail.find("\\u0000"), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find("(byte 7)"), std::string::npos) << e.detail;
}

TEST(ParseJsonStrict, DuplicateKeyErrorNamesTheKey) {
    const ApiError e = error_of([] { parse_json_strict(R"({"Role":"admin","role":"member"})"); });
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "role");
    EXPECT_EQ(e.errors[0].message, "duplicate key");
}

TEST(ParseJsonStrict, NonFiniteErrorNamesTheField) {
    const ApiError e = error_of([] { parse_json_strict(R"({"n":1e309})"); });
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "n");
}

// ----------------------------------------------------------------------------------------------
// ObjectReader

ApiError reader_error(const std::string& text, void (*read)(ObjectReader&)) {
    const JsonPtr root = parse_json_strict(text);
    return error_of([&] {
        ObjectReader r(root.get());
        read(r);
    });
}

TEST(ObjectReader, RootMustBeAnObject) {
    for (const char* text : {"[]", "\"x\"", "null", "1", "true"}) {  // B04
        const JsonPtr root = parse_json_strict(text);
        const ApiError e = error_of([&] { ObjectReader r(root.get()); });
        EXPECT_EQ(e.status, 400) << text;
        EXPECT_EQ(e.detail, "body must be a JSON object");
    }
    EXPECT_THROW(ObjectReader(nullptr), ApiError);
}

TEST(ObjectReader, WrongTypesAre400NamingTheField) {  // B09
    const auto title = [](ObjectReader& r) { r.required_string("title", 1, 200); };
    const auto limit = [](ObjectReader& r) { r.optional_int("limit", 1, 100); };
    const auto done = [](ObjectReader& r) { r.optional_bool("done"); };
    const std::vector<std::pair<std::string, void (*)(ObjectReader&)>> cases = {
        {R"({"title":123})", title},  {R"({"title":null})", title}, {R"({"title":["a"]})", title},
        {R"({"title":{}})", title},   {R"({"title":true})", title}, {R"({"limit":"10"})", limit},
        {R"({"limit":true})", limit}, {R"({"limit":[1]})", limit},  {R"({"done":"true"})", done},
        {R"({"done":1})", done},
    };
    for (const auto& [text, read] : cases) {
        const ApiError e = reader_error(text, read);
        EXPECT_EQ(e.status, 400) << text;
        ASSERT_EQ(e.errors.size(), 1u) << text;
        EXPECT_TRUE(e.errors[0].field == "title" || e.errors[0].field == "limit" ||
                    e.errors[0].field == "done")
            << text;
        EXPECT_EQ(e.detail.rfind(e.errors[0].field + ": ", 0), 0u) << e.detail;
    }
}

TEST(ObjectReader, MissingRequiredStringIs422) {
    const ApiError e = reader_error("{}", [](ObjectReader& r) { r.required_string("t", 1, 9); });
    EXPECT_EQ(e.status, 422);
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "t");
}

TEST(ObjectReader, NullAndAbsentOptionalsReadAsAbsent) {
    const JsonPtr root = parse_json_strict(R"({"s":null,"i":null,"b":null})");
    ObjectReader r(root.get());
    EXPECT_FALSE(r.optional_string("s", 1, 5));
    EXPECT_FALSE(r.optional_int("i", 0, 5));
    EXPECT_FALSE(r.optional_bool("b"));
    EXPECT_FALSE(r.optional_string("missing", 1, 5));
    EXPECT_TRUE(r.has("s"));
    EXPECT_FALSE(r.has("missing"));
    EXPECT_NO_THROW(r.finish());
}

TEST(ObjectReader, ReadsValues) {
    const JsonPtr root = parse_json_strict(R"({"s":"héllo","i":-42,"b":false,"t":true})");
    ObjectReader r(root.get());
    EXPECT_EQ(r.required_string("s", 1, 5), "héllo");
    EXPECT_EQ(r.optional_int("i", -100, 100), -42);
    EXPECT_EQ(r.optional_bool("b"), false);
    EXPECT_EQ(r.optional_bool("t"), true);
    EXPECT_NO_THROW(r.finish());
}

TEST(ObjectReader, KeysAreCaseSensitive) {
    const JsonPtr root = parse_json_strict(R"({"Title":"x"})");
    ObjectReader r(root.get());
    EXPECT_FALSE(r.optional_string("title", 0, 9));
    const ApiError e = error_of([&] { r.finish(); });
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "Title");
}

std::optional<int64_t> read_int(const std::string& literal, int64_t min, int64_t max) {
    const JsonPtr root = parse_json_strict(R"({"n":)" + literal + "}");
    ObjectReader r(root.get());
    return r.optional_int("n", min, max);
}

constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

TEST(ObjectReaderInt, RefusesWhatIsNotAnExactSafeInteger) {  // B10
    for (const char* lit : {"9007199254740993", "9007199254740992", "-9007199254740992",
                            "99999999999999999999", "-99999999999999999999", "1.5", "1.0", "1e2",
                            "1.0000000000000001", "9007199254740991.5", "-0", "-0.0"}) {
        const ApiError e = error_of([&] { read_int(lit, kI64Min, kI64Max); });
        EXPECT_EQ(e.status, 400) << lit;
        ASSERT_EQ(e.errors.size(), 1u) << lit;
        EXPECT_EQ(e.errors[0].field, "n");
    }
}

TEST(ObjectReaderInt, AcceptsTheSafeRangeExactly) {
    EXPECT_EQ(read_int("9007199254740991", kI64Min, kI64Max), 9007199254740991);
    EXPECT_EQ(read_int("-9007199254740991", kI64Min, kI64Max), -9007199254740991);
    EXPECT_EQ(read_int("0", kI64Min, kI64Max), 0);
}

TEST(ObjectReaderInt, OutOfBoundsIs422) {
    const ApiError e = error_of([] { read_int("99999999999", INT32_MIN, INT32_MAX); });
    EXPECT_EQ(e.status, 422);
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "n");
    EXPECT_EQ(read_int("1", 1, 100), 1);  // bounds are inclusive
    EXPECT_EQ(read_int("100", 1, 100), 100);
    EXPECT_EQ(error_of([] { read_int("0", 1, 100); }).status, 422);
    EXPECT_EQ(error_of([] { read_int("101", 1, 100); }).status, 422);
    EXPECT_EQ(error_of([] { read_int("-1", 0, 100); }).status, 422);
}

// A tree that did not come from parse_json_strict has no literal: the double is checked.
TEST(ObjectReaderInt, TreesFromPlainCjsonAreCheckedByValue) {
    const auto read = [](const char* text) {
        const JsonPtr root(cJSON_Parse(text));
        ObjectReader r(root.get());
        return r.optional_int("n", kI64Min, kI64Max);
    };
    EXPECT_EQ(read(R"({"n":42})"), 42);
    EXPECT_EQ(read(R"({"n":-9007199254740991})"), -9007199254740991);
    for (const char* text :
         {R"({"n":1.5})", R"({"n":9007199254740993})", R"({"n":-0})", R"({"n":1e309})"}) {
        EXPECT_EQ(error_of([&] { read(text); }).status, 400) << text;
    }
}

// The literal kept by parse_json_strict is not trusted once the value has been changed.
TEST(ObjectReaderInt, ValueSetAfterParsingWins) {
    const JsonPtr root = parse_json_strict(R"({"a":1.5,"b":5})");
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(root.get(), "a"), 3);
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(root.get(), "b"), 2.5);
    ObjectReader r(root.get());
    EXPECT_EQ(r.optional_int("a", 0, 9), 3);
    EXPECT_EQ(error_of([&] { r.optional_int("b", 0, 9); }).status, 400);
}

TEST(ObjectReaderString, BoundsAreCodePoints) {
    const JsonPtr root = parse_json_strict(R"({"a":"éé","b":"😀","c":"","d":"abc"})");
    ObjectReader r(root.get());
    EXPECT_EQ(r.required_string("a", 2, 2), "éé");  // 4 bytes, 2 code points
    EXPECT_EQ(r.required_string("b", 1, 1), "😀");   // 4 bytes, 1 code point
    EXPECT_EQ(r.optional_string("c", 0, 0), "");
    EXPECT_EQ(error_of([&] { r.required_string("c", 1, 5); }).status, 422);
    EXPECT_EQ(error_of([&] { r.required_string("d", 4, 9); }).status, 422);
    EXPECT_EQ(error_of([&] { r.required_string("d", 0, 2); }).status, 422);
}

TEST(ObjectReaderString, HundredThousandCharsAgainstAMax) {  // B14
    const std::string text = R"({"title":")" + std::string(100000, 'x') + R"("})";
    const ApiError e =
        reader_error(text, [](ObjectReader& r) { r.required_string("title", 1, 200); });
    EXPECT_EQ(e.status, 422);
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "title");
    EXPECT_EQ(e.errors[0].message, "must be at most 200 characters");
}

TEST(ObjectReaderFinish, RefusesUnknownAndPrivilegedKeys) {  // B08
    for (const char* key : {"owner_id", "id", "role", "created_at"}) {
        const std::string text = R"({"title":"a",")" + std::string(key) + R"(":1})";
        const ApiError e = reader_error(text, [](ObjectReader& r) {
            r.required_string("title", 1, 10);
            r.finish();
        });
        EXPECT_EQ(e.status, 400);
        ASSERT_EQ(e.errors.size(), 1u);
        EXPECT_EQ(e.errors[0].field, key);
        EXPECT_EQ(e.errors[0].message, "unknown field");
    }
}

TEST(ObjectReaderFinish, HasCountsAsReading) {
    const JsonPtr root = parse_json_strict(R"({"a":1})");
    ObjectReader r(root.get());
    EXPECT_THROW(r.finish(), ApiError);
    EXPECT_TRUE(r.has("a"));
    EXPECT_NO_THROW(r.finish());
}

TEST(ObjectReaderFinish, LongUnknownKeyIsShortenedInTheError) {
    const std::string key(5000, 'k');
    const ApiError e = reader_error(R"({")" + key + R"(":1})", [](ObjectReader& r) { r.finish(); });
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_LT(e.errors[0].field.size(), 100u);
    EXPECT_LT(e.detail.size(), 200u);
}

TEST(ObjectReaderFinish, EmptyKeyIsNamed) {
    const ApiError e = reader_error(R"({"":1})", [](ObjectReader& r) { r.finish(); });
    EXPECT_EQ(e.status, 400);
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_EQ(e.errors[0].field, "");
}

// ----------------------------------------------------------------------------------------------
// UTF-8 helpers

TEST(Utf8, ValidAndInvalid) {
    for (const char* s : {"", "abc", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                          "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
        EXPECT_TRUE(valid_utf8(s)) << s;
    }
    for (const char* s :
         {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xC2", "\xC3\x28", "\xE0\x9F\xBF",
          "\xED\xA0\x80", "\xED\xBF\xBF", "\xE2\x82", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80",
          "\xF5\x80\x80\x80", "\xFE", "\xFF",
          "a\xE2\x82\xAC"
          "b\xE2"}) {
        EXPECT_FALSE(valid_utf8(s)) << s;
    }
    EXPECT_TRUE(valid_utf8("a\0b"s));  // NUL is valid UTF-8; the parsers refuse it themselves
}

TEST(Utf8, LengthCountsCodePoints) {
    EXPECT_EQ(utf8_length(""), 0u);
    EXPECT_EQ(utf8_length("abc"), 3u);
    EXPECT_EQ(utf8_length("é€😀"), 3u);
}

// ----------------------------------------------------------------------------------------------
// JsonWriter

TEST(JsonWriter, CommasAndNesting) {
    JsonWriter w;
    w.begin_object().field("a", 1).key("b").begin_array().value(1).value(2).begin_object();
    w.key("c").null().end_object().begin_array().end_array().end_array();
    w.field("d", true).key("e").begin_object().end_object().key("f").raw(R"([1,{"x":2}])");
    w.end_object();
    EXPECT_EQ(w.str(), R"({"a":1,"b":[1,2,{"c":null},[]],"d":true,"e":{},"f":[1,{"x":2}]})");
}

TEST(JsonWriter, TopLevelScalarAndTake) {
    JsonWriter w;
    w.value("x");
    EXPECT_EQ(w.take(), R"("x")");
}

std::string json_quoted(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(JsonWriter, Escapes) {
    EXPECT_EQ(json_quoted(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
    EXPECT_EQ(json_quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
    EXPECT_EQ(json_quoted("\x01\x1f"), R"("\u0001\u001f")");
    EXPECT_EQ(json_quoted("a\0b"s), R"("a\u0000b")");
    EXPECT_EQ(json_quoted("\x7f/<>&"), "\"\x7f/<>&\"");
    EXPECT_EQ(json_quoted("\xE2\x80\xA8\xE2\x80\xA9"), R"("\u2028\u2029")");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
    EXPECT_EQ(json_quoted("é€😀"), "\"é€😀\"");
    EXPECT_EQ(json_quoted("a\xC3\x28"), "\"a\xEF\xBF\xBD(\"");
    EXPECT_EQ(json_quoted("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(json_quoted("x\xE2\x82"), "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(json_quoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_TRUE(valid_utf8(json_quoted("\xFF\xFE\x80 \xF4\x90\x80\x80")));
}

std::string number_text(double d) {
    JsonWriter w;
    w.value(d);
    return w.str();
}

TEST(JsonWriter, NumbersAreShortestAndFiniteOrNull) {
    EXPECT_EQ(number_text(0.1), "0.1");
    EXPECT_EQ(number_text(3.0), "3");
    EXPECT_EQ(number_text(-0.0), "-0");
    EXPECT_EQ(number_text(1e21), "1e+21");
    EXPECT_EQ(number_text(std::nan("")), "null");
    EXPECT_EQ(number_text(std::numeric_limits<double>::infinity()), "null");
    EXPECT_EQ(number_text(-std::numeric_limits<double>::infinity()), "null");
    JsonWriter w;
    w.begin_array().value(kI64Min).value(kI64Max).value(0).end_array();
    EXPECT_EQ(w.str(), "[-9223372036854775808,9223372036854775807,0]");
}

// ----------------------------------------------------------------------------------------------
// Round trips: write → parse_json_strict → the same values.

TEST(JsonRoundTrip, StringsAndNumbers) {
    std::string all_ascii;
    for (int c = 1; c < 128; ++c) all_ascii += static_cast<char>(c);
    const std::vector<std::string> strings = {
        "", "plain", all_ascii, "é€😀", "\\u0000", "\xE2\x80\xA8", R"("quoted")", "tab\there"};
    const std::vector<double> doubles = {
        0.1, -0.0, 1e308, 5e-324, 1.7976931348623157e308, 1e21, 1e-7, 123456789.125, -2.5e-300};
    JsonWriter w;
    w.begin_object().key("s").begin_array();
    for (const auto& s : strings) w.value(s);
    w.end_array().key("d").begin_array();
    for (double d : doubles) w.value(d);
    w.end_array().field("i", int64_t{9007199254740991}).field("b", false).end_object();

    const JsonPtr root = parse_json_strict(w.str());
    const cJSON* s = item(root, "s");
    ASSERT_EQ(cJSON_GetArraySize(s), static_cast<int>(strings.size()));
    for (size_t k = 0; k < strings.size(); ++k) {
        EXPECT_EQ(cJSON_GetArrayItem(s, static_cast<int>(k))->valuestring, strings[k]);
    }
    const cJSON* d = item(root, "d");
    for (size_t k = 0; k < doubles.size(); ++k) {
        const double got = cJSON_GetArrayItem(d, static_cast<int>(k))->valuedouble;
        EXPECT_EQ(std::memcmp(&got, &doubles[k], sizeof got), 0) << doubles[k];  // bit-exact
    }
    ObjectReader r(root.get());
    EXPECT_TRUE(r.has("s") && r.has("d"));
    EXPECT_EQ(r.optional_int("i", 0, kI64Max), 9007199254740991);
    EXPECT_EQ(r.optional_bool("b"), false);
    EXPECT_NO_THROW(r.finish());
}

std::string utf8_encode(uint32_t cp) {
    std::string u;
    if (cp < 0x80) {
        u += static_cast<char>(cp);
    } else if (cp < 0x800) {
        u += static_cast<char>(0xC0 | (cp >> 6));
        u += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        u += static_cast<char>(0xE0 | (cp >> 12));
        u += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        u += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        u += static_cast<char>(0xF0 | (cp >> 18));
        u += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        u += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        u += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return u;
}

bool is_surrogate(uint32_t cp) {
    return cp >= 0xD800 && cp <= 0xDFFF;
}

// Every scalar value but U+0000, in strings of up to 4096 code points each.
std::vector<std::string> all_code_points() {
    std::vector<std::string> blocks;
    for (uint32_t base = 0; base <= 0x10FFFF; base += 0x1000) {
        std::string block;
        for (uint32_t cp = std::max(base, 1u); cp < base + 0x1000; ++cp) {
            if (!is_surrogate(cp)) block += utf8_encode(cp);
        }
        if (!block.empty()) blocks.push_back(std::move(block));
    }
    return blocks;
}

TEST(JsonRoundTrip, EveryCodePoint) {
    const std::vector<std::string> blocks = all_code_points();
    JsonWriter w;
    w.begin_array();
    for (const auto& b : blocks) w.value(b);
    w.end_array();
    const JsonPtr root = parse_json_strict(w.str());
    size_t k = 0;
    size_t code_points = 0;
    for (const cJSON* c = root->child; c; c = c->next, ++k) {
        ASSERT_LT(k, blocks.size());
        ASSERT_EQ(c->valuestring, blocks[k]) << "block " << k;
        code_points += utf8_length(c->valuestring);
    }
    EXPECT_EQ(k, blocks.size());
    EXPECT_EQ(code_points, 0x10FFFFu - 2048u);  // all but U+0000 and the surrogates
}

// cJSON decodes \uXXXX (and surrogate pairs) to the same bytes as the raw UTF-8.
TEST(JsonRoundTrip, UnicodeEscapesDecodeLikeRawUtf8) {
    constexpr char kHexDigits[] = "0123456789abcdef";
    const auto escape = [&](uint32_t unit) {
        std::string e = "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) e += kHexDigits[(unit >> shift) & 0xF];
        return e;
    };
    std::string text = "[";
    std::vector<std::string> expected;
    for (uint32_t base = 0; base <= 0x10FFFF; base += 0x1000) {
        std::string lit, raw;
        for (uint32_t cp = std::max(base, 1u); cp < base + 0x1000; cp += 7) {
            if (is_surrogate(cp)) continue;
            if (cp < 0x10000) {
                lit += escape(cp);
            } else {
                lit += escape(0xD800 + ((cp - 0x10000) >> 10));
                lit += escape(0xDC00 + ((cp - 0x10000) & 0x3FF));
            }
            raw += utf8_encode(cp);
        }
        if (raw.empty()) continue;
        text += (expected.empty() ? "\"" : ",\"") + lit + "\"";
        expected.push_back(std::move(raw));
    }
    text += "]";
    const JsonPtr root = parse_json_strict(text);
    size_t k = 0;
    for (const cJSON* c = root->child; c; c = c->next, ++k) {
        ASSERT_LT(k, expected.size());
        ASSERT_EQ(c->valuestring, expected[k]) << "block " << k;
    }
    EXPECT_EQ(k, expected.size());
}

TEST(JsonRoundTrip, InvalidBytesComeBackAsReplacementCharacters) {
    JsonWriter w;
    w.begin_object().field("k\xFF", "a\xC3\x28").end_object();
    const JsonPtr root = parse_json_strict(w.str());
    EXPECT_STREQ(root->child->string, "k\xEF\xBF\xBD");
    EXPECT_STREQ(root->child->valuestring, "a\xEF\xBF\xBD(");
}

}  // namespace
}  // namespace core
