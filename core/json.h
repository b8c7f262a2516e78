// JSON in and out. Input goes through ONE strict reader that fixes cJSON 1.7.15's traps;
// output is written by JsonWriter, a small appender (faster than building a cJSON tree).
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/c_handles.h"
#include "core/utf8.h"  // valid_utf8, utf8_length: JSON strings are UTF-8

namespace core {

using JsonPtr = std::unique_ptr<cJSON, CDeleter<cJSON_Delete>>;
using JsonTextPtr = std::unique_ptr<char, CDeleter<cJSON_free>>;  // cJSON_Print* output

// Parses a request body strictly, or throws ApiError 400 (with a detail saying what is wrong)
// when the text:
//  - is not JSON, or has trailing bytes after the value (cJSON_ParseWithLength accepts them);
//  - nests deeper than 64 levels;
//  - has an object with the same key twice, compared case-insensitively (cJSON keeps both and
//    its lookups ignore case, so {"Role":"admin","role":"member"} could read as admin);
//  - contains \u0000 in any string or key (cJSON would silently truncate);
//  - contains invalid UTF-8 (raw or overlong) or lone surrogates;
//  - has numbers that are not finite (1e309).
// The root may be any JSON value; ObjectReader insists on an object.
JsonPtr parse_json_strict(std::string_view text);

// Reads the fields of one JSON object the way a validating handler wants them. Every accessor
// marks its key as known; finish() then refuses the first key that no accessor asked for.
// Keys are matched case-sensitively. Errors are ApiError naming the field:
//   wrong JSON type or unknown field → 400; value out of bounds → 422.
// A key whose value is JSON null reads as absent for optional_* accessors (so PATCH can use
// null to mean "no change"), except where a *_nullable accessor is used.
class ObjectReader {
  public:
    // Throws 400 "body must be a JSON object" unless root is an object.
    explicit ObjectReader(const cJSON* root);

    bool has(const char* key) const;  // present (even if null)

    // Strings: length bounds are in Unicode code points, after the value is read.
    std::string required_string(const char* key, size_t min_chars, size_t max_chars);
    std::optional<std::string> optional_string(const char* key, size_t min_chars, size_t max_chars);
    std::optional<bool> optional_bool(const char* key);
    // Integers: the JSON number must be integral and within [min, max]; 1e309, 1.5,
    // 9007199254740993 and "10" are refused rather than saturated or rounded.
    std::optional<int64_t> optional_int(const char* key, int64_t min, int64_t max);
    // An array of strings (labels, member ids): at most max_items, each within the character
    // bounds; an item's error names it "key[i]". Null reads as absent, like the others.
    std::optional<std::vector<std::string>> optional_string_array(const char* key, size_t max_items,
                                                                  size_t min_chars,
                                                                  size_t max_chars);
    // An object of integers ({"todo": 3}), in the body's key order; a value's error names it
    // "key.sub" (the wrong type 400, out of [min, max] 422).
    std::optional<std::vector<std::pair<std::string, int64_t>>> optional_int_object(const char* key,
                                                                                    int64_t min,
                                                                                    int64_t max);

    // Throws 400 naming the first key no accessor asked for.
    void finish() const;

  private:
    const cJSON* find(const char* key) const;  // case-sensitive
    const cJSON* root_;
    mutable std::set<std::string> known_;
};

// Appends JSON text; commas and nesting are tracked for the caller.
class JsonWriter {
  public:
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    JsonWriter& value(int64_t n);
    JsonWriter& value(int n) { return value(static_cast<int64_t>(n)); }
    JsonWriter& value(double d);  // non-finite numbers are written as null
    JsonWriter& value(bool b);
    JsonWriter& null();
    JsonWriter& raw(std::string_view json);  // an already rendered JSON value
    // Shorthands for a key followed by its value.
    template <class T>
    JsonWriter& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }
    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    void before_value();
    std::string out_;
    std::string stack_;  // 'o' or 'a' per open container
    std::string first_;  // '1' while the container at that depth has no element yet
    bool after_key_ = false;
};

// Appends s as a JSON string literal (with quotes) to out. Invalid UTF-8 is replaced by U+FFFD
// so that whatever we echo is valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace core
