// Query strings, urlencoded forms, Cookie headers and CONTENT_LENGTH: URL and header bytes.
#include "core/query.h"

#include <cctype>
#include <cstring>
#include <string>
#include <unordered_set>

#include "core/json.h"  // valid_utf8
#include "core/problem.h"

namespace core {
namespace {

constexpr size_t kMaxDecimalDigits = 18;  // 999,999,999,999,999,999 fits in int64_t

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// 400 shaped like ApiError::unprocessable: detail "name: message", errors[0] the pair.
core::ApiError param_error(const std::string& name, std::string message) {
    core::ApiError e = core::ApiError::bad_request(name + ": " + message, name);
    if (e.errors.empty()) e.errors.push_back({name, message});  // bad_request drops ""
    e.errors.front().message = std::move(message);
    return e;
}

// Decodes and stores one `name=value` piece (never empty).
void add_pair(Params& params, std::string_view piece) {
    const size_t eq = piece.find('=');
    const std::string_view raw_name = piece.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? "" : piece.substr(eq + 1);

    // The name cannot be echoed until it is known to be sane, so these errors name no field.
    std::optional<std::string> name = percent_decode(raw_name, true);
    if (!name) {
        throw core::ApiError::bad_request(
            "query parameter name has a bad %-escape, a NUL or invalid UTF-8");
    }
    if (name->empty()) throw core::ApiError::bad_request("query parameter with an empty name");
    if (name->size() > kMaxParamNameBytes) {
        throw core::ApiError::bad_request("query parameter name longer than " +
                                          std::to_string(kMaxParamNameBytes) + " bytes");
    }
    // ?limit=10&limit=100000: a front end and a back end may read different ones; refuse both.
    if (params.has(*name)) throw param_error(*name, "given more than once");

    std::optional<std::string> value = percent_decode(raw_value, true);
    if (!value) throw param_error(*name, "has a bad %-escape, a NUL or invalid UTF-8");
    params.add(std::move(*name), std::move(*value));
}

std::string_view trim_ows(std::string_view s) {
    const size_t b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// RFC 9110 token characters: what a cookie name is made of.
bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s) {
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && (c == '\0' || !std::strchr("!#$%&'*+-.^_`|~", c))) return false;
    }
    return true;
}

// Lenient on purpose (browsers send what pages set), but never controls, NUL or broken UTF-8,
// so that whatever reaches a log line or a query is printable text.
bool acceptable_cookie_value(std::string_view v) {
    for (const char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) return false;
    }
    return core::valid_utf8(v);
}

// Calls visit(name, value) for each well-formed `name=value` piece, in order, until visit
// returns false. Malformed pieces are skipped, never fatal: a stray cookie set by another app
// on the same domain must not lock a user out.
template <class Visit>
void for_each_cookie(std::string_view header, Visit&& visit) {
    size_t start = 0;
    while (start <= header.size()) {
        size_t semi = header.find(';', start);
        if (semi == std::string_view::npos) semi = header.size();
        const std::string_view piece = header.substr(start, semi - start);
        start = semi + 1;
        const size_t eq = piece.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = trim_ows(piece.substr(0, eq));
        const std::string_view value = trim_ows(piece.substr(eq + 1));
        if (!is_token(name) || !acceptable_cookie_value(value)) continue;
        if (!visit(name, value)) return;
    }
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (in.size() - i < 3) return std::nullopt;
            const int hi = hex_digit(in[i + 1]);
            const int lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_as_space) {
            c = ' ';
        }
        // A NUL would cut the value short in any C API and PostgreSQL refuses it in text (22021).
        if (c == '\0') return std::nullopt;
        out += c;
    }
    if (!core::valid_utf8(out)) return std::nullopt;
    return out;
}

std::optional<std::string_view> Params::get(std::string_view name) const {
    for (const auto& [n, v] : items_) {
        if (n == name) return std::string_view(v);
    }
    return std::nullopt;
}

Params parse_query(std::string_view qs) {
    Params params;
    size_t count = 0;
    size_t start = 0;
    while (start <= qs.size()) {
        size_t amp = qs.find('&', start);
        if (amp == std::string_view::npos) amp = qs.size();
        const std::string_view piece = qs.substr(start, amp - start);
        start = amp + 1;
        if (piece.empty()) continue;
        if (++count > kMaxParams) {
            throw core::ApiError::bad_request("more than " + std::to_string(kMaxParams) +
                                              " query parameters");
        }
        add_pair(params, piece);
    }
    return params;
}

std::vector<std::pair<std::string, std::string>> parse_cookies(std::string_view header) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unordered_set<std::string_view> seen;  // views into header, which outlives the loop
    for_each_cookie(header, [&](std::string_view name, std::string_view value) {
        if (seen.insert(name).second) out.emplace_back(name, value);
        return true;
    });
    return out;
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
    std::optional<std::string> found;
    for_each_cookie(header, [&](std::string_view n, std::string_view v) {
        if (n != name) return true;
        found.emplace(v);
        return false;  // the first occurrence wins
    });
    return found;
}

int64_t int_param_or_throw(const Params& p, std::string_view name, int64_t min, int64_t max,
                           int64_t def) {
    const std::optional<std::string_view> raw = p.get(name);
    if (!raw) return def;
    const std::optional<int64_t> n = parse_decimal(*raw);
    if (!n || *n < min || *n > max) {
        throw param_error(std::string(name), "must be an integer from " + std::to_string(min) +
                                                 " to " + std::to_string(max));
    }
    return *n;
}

std::optional<int64_t> parse_decimal(std::string_view s) {
    if (s.empty() || s.size() > kMaxDecimalDigits) return std::nullopt;
    int64_t n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

bool normalise_uuid(std::string& s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < 36; ++i) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
            return false;
        }
        s[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return true;
}

namespace {

bool listed(std::string_view names, std::string_view name) {
    while (!names.empty()) {
        size_t end = names.find(' ');
        if (names.substr(0, end) == name) return true;
        names = end == std::string_view::npos ? "" : names.substr(end + 1);
    }
    return false;
}

}  // namespace

void refuse_unknown_params(const Params& p, std::string_view known) {
    for (const auto& [name, value] : p.items()) {
        if (listed(known, name)) continue;
        std::string why = "unknown query parameter '" + name + "'";
        throw ApiError(422, status_text(422), why, {{name, why}}, "/problems/validation");
    }
}

bool equals_ascii_ci(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace core
