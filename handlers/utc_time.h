// Time filters of the tracker's reads (activity, reports).
#pragma once

#include <optional>
#include <string>

namespace handlers {

// A filter already checked by rfc3339_or_throw: a bare date (YYYY-MM-DD) means its UTC
// midnight, where PostgreSQL would read it in the session's time zone.
inline std::optional<std::string> utc_time(std::optional<std::string> t) {
    if (t && t->size() == 10) *t += "T00:00:00Z";
    return t;
}

}  // namespace handlers
