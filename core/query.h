// Query strings, urlencoded forms and Cookie headers: the parsers that read user bytes in URLs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace core {

// Decodes %XX escapes (and '+' as a space when plus_as_space). Returns nullopt on a malformed
// escape, a decoded NUL byte, or a result that is not valid UTF-8.
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space);

// Decoded name/value pairs in their original order. A name given twice is refused when parsed
// (parameter pollution: ?limit=10&limit=100000 answers 400), so lookups are unambiguous.
class Params {
  public:
    std::optional<std::string_view> get(std::string_view name) const;
    bool has(std::string_view name) const { return get(name).has_value(); }
    const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
    void add(std::string name, std::string value) {
        items_.emplace_back(std::move(name), std::move(value));
    }

  private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// Limits on what a query string or form may hold.
inline constexpr size_t kMaxParams = 64;
inline constexpr size_t kMaxParamNameBytes = 128;

// Parses `a=1&b=two` (application/x-www-form-urlencoded rules: '+' is a space, both in query
// strings and form bodies). Empty pieces (`a=1&&b=2`, trailing `&`) are skipped; `a` without '='
// has an empty value. Throws core::ApiError 400 naming the parameter on: a bad escape, a NUL,
// invalid UTF-8, an empty name, a name longer than kMaxParamNameBytes, a duplicate name, or
// more than kMaxParams pairs.
Params parse_query(std::string_view qs);
inline Params parse_form(std::string_view body) {
    return parse_query(body);
}

// Parses a Cookie header (`a=1; b=2`). Tolerant, never throws: malformed pieces are skipped,
// values are not percent-decoded, the first occurrence of a name wins.
std::vector<std::pair<std::string, std::string>> parse_cookies(std::string_view header);
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

// Typed query parameters. Each throws core::ApiError 400 naming the parameter when the value
// is present but not acceptable (not digits, sign, leading '+', spaces, out of range).
// `limit` is 1..max (default def): absent → def.
int64_t int_param_or_throw(const Params& p, std::string_view name, int64_t min, int64_t max,
                           int64_t def);
inline int limit_or_throw(const Params& p, int max = 100, int def = 20) {
    return static_cast<int>(int_param_or_throw(p, "limit", 1, max, def));
}

// Refuses a parameter not named in `known` (space-separated: "limit cursor kind"): 422 with
// errors[].field naming it. The one rule of the API and the live daemon: a typo or an injection
// attempt (?sort=...;DROP) never passes silently.
void refuse_unknown_params(const Params& p, std::string_view known);

// Strict decimal parse of a non-negative integer (no sign, no spaces, no leading '+',
// at most 18 digits). Used for CONTENT_LENGTH too.
std::optional<int64_t> parse_decimal(std::string_view s);

// ASCII case-insensitive equality (header values, schemes, host names: never user text).
bool equals_ascii_ci(std::string_view a, std::string_view b);

// Lower-cases a canonical 8-4-4-4-12 hex UUID; false if s is not one.
bool normalise_uuid(std::string& s);

}  // namespace core
