#include "fcgi/range.h"

#include <algorithm>
#include <string_view>

#include "core/query.h"

namespace fcgi {

std::optional<ByteRange> parse_range(const char* header, int64_t size) {
    if (!header) return std::nullopt;
    std::string_view h(header);
    if (h.substr(0, 6) != "bytes=" || h.find(',') != std::string_view::npos) return std::nullopt;
    h.remove_prefix(6);
    size_t dash = h.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view from = h.substr(0, dash), to = h.substr(dash + 1);
    auto a = core::parse_decimal(from), b = core::parse_decimal(to);
    if ((!from.empty() && !a) || (!to.empty() && !b) || (from.empty() && to.empty()))
        return std::nullopt;
    if (from.empty()) {  // the last *b bytes
        if (b.value_or(0) == 0 || size == 0) return ByteRange{1, 0};
        return ByteRange{std::max<int64_t>(0, size - b.value_or(0)), size - 1};
    }
    int64_t first = a.value_or(0);
    if (first >= size) return ByteRange{1, 0};
    int64_t last = to.empty() ? size - 1 : std::min(b.value_or(0), size - 1);
    if (last < first) return std::nullopt;  // "bytes=5-2" is invalid: ignored
    return ByteRange{first, last};
}

}  // namespace fcgi
