// Logging: one line per event, `ts level proc[pid] req=<id> user=<id> route=<name> msg`, to
// stderr (the stack redirects it to a file). Secrets never reach a line: callers never pass
// them, and mask_secrets() scrubs anything that looks like a token before writing.
#pragma once

#include <string>
#include <string_view>

namespace core {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

// Per-request context carried into every line written while serving it.
struct LogContext {
    std::string_view request_id;
    std::string_view user_id;
    std::string_view route;
};

// Set once at process start (after config is loaded), before any thread or fork.
void log_setup(std::string_view process_name, LogLevel min_level);
LogLevel parse_log_level(std::string_view s);

void log_line(LogLevel level, const LogContext& ctx, std::string_view msg);
inline void log_info(std::string_view msg) {
    log_line(LogLevel::info, {}, msg);
}
inline void log_warn(std::string_view msg) {
    log_line(LogLevel::warn, {}, msg);
}
inline void log_error(std::string_view msg) {
    log_line(LogLevel::error, {}, msg);
}
inline void log_debug(std::string_view msg) {
    log_line(LogLevel::debug, {}, msg);
}

// Replaces JWT-shaped strings (three base64url segments starting "eyJ") and the values of
// password/token fields (`"password":"..."`, `access_token=...`) by "***".
std::string mask_secrets(std::string_view text);

// What log_line writes for every field: printable ASCII and valid UTF-8 as they are, a backslash
// doubled, and every other byte (C0 and C1 controls, DEL, bytes that are not UTF-8) as \xNN.
// A line can then never be split or forged by request text, nor carry a terminal escape.
std::string escape_log_text(std::string_view text);

}  // namespace core
