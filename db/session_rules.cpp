// The rules on a session's fields.
#include "db/session_rules.h"

#include "core/json.h"
#include "core/problem.h"

namespace db {
namespace {

// "practice, scribe, interview or memo"
std::string kinds_sentence() {
    std::string out;
    constexpr size_t n = std::size(kSessionKinds);
    for (size_t i = 0; i < n; ++i) {
        if (i > 0) out += i + 1 == n ? " or " : ", ";
        out += kSessionKinds[i];
    }
    return out;
}

}  // namespace

bool is_session_kind(std::string_view kind) {
    for (const char* k : kSessionKinds)
        if (kind == k) return true;
    return false;
}

void check_session_kind(const std::string& kind) {
    if (!is_session_kind(kind))
        throw core::ApiError::unprocessable("kind", "must be " + kinds_sentence());
}

void check_session_title(const std::string& title) {
    if (core::utf8_length(title) > kSessionTitleMaxChars)
        throw core::ApiError::unprocessable(
            "title", "must be at most " + std::to_string(kSessionTitleMaxChars) + " characters");
}

}  // namespace db
