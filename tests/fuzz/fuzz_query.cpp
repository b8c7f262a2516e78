// libFuzzer target for core/query: query strings, percent-decoding, cookies and decimals.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/json.h"  // valid_utf8
#include "core/problem.h"
#include "core/query.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_query invariant broken: %s\n", what);
    std::abort();
}

// What a handler or PostgreSQL may receive: valid UTF-8 and no NUL.
bool clean(std::string_view s) {
    return s.find('\0') == std::string_view::npos && core::valid_utf8(s);
}

void check_decode(std::string_view text) {
    for (const bool plus : {false, true}) {
        const auto out = core::percent_decode(text, plus);
        if (!out) continue;
        require(clean(*out), "percent_decode result has a NUL or invalid UTF-8");
        require(out->size() <= text.size(), "percent_decode grew the text");
    }
}

void check_query(std::string_view text) {
    core::Params p;
    try {
        p = core::parse_query(text);
    } catch (const core::ApiError& e) {
        require(e.status == 400, "parse_query refused with a status other than 400");
        return;
    }
    require(p.items().size() <= core::kMaxParams, "more than kMaxParams parameters");
    std::set<std::string> names;
    for (const auto& [name, value] : p.items()) {
        require(!name.empty() && name.size() <= core::kMaxParamNameBytes, "bad name length");
        require(clean(name) && clean(value), "parameter has a NUL or invalid UTF-8");
        require(names.insert(name).second, "duplicate parameter name");
        require(p.get(name) == std::string_view(value), "get() disagrees with items()");
    }
    try {
        const int limit = core::limit_or_throw(p);
        require(limit >= 1 && limit <= 100, "limit out of range");
    } catch (const core::ApiError& e) {
        require(e.status == 400 && p.has("limit"), "limit refused wrongly");
    }
}

void check_cookies(std::string_view text) {
    const auto cookies = core::parse_cookies(text);
    std::set<std::string> names;
    for (const auto& [name, value] : cookies) {
        require(!name.empty() && clean(name) && clean(value), "bad cookie");
        require(names.insert(name).second, "duplicate cookie name");
        require(core::cookie_value(text, name) == value, "cookie_value disagrees");
    }
}

void check_decimal(std::string_view text) {
    const auto n = core::parse_decimal(text);
    if (!n) return;
    require(!text.empty() && text.size() <= 18, "parse_decimal accepted a bad length");
    require(text.find_first_not_of("0123456789") == std::string_view::npos, "non-digit");
    const size_t lead = text.find_first_not_of('0');
    const std::string_view significant = lead == std::string_view::npos ? "0" : text.substr(lead);
    require(std::to_string(*n) == significant, "parse_decimal value differs from the text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_decode(text);
    check_query(text);
    check_cookies(text);
    check_decimal(text);
    return 0;
}
