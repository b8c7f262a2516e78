// The log writer and the secret masker.
#include "core/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <ctime>

#include "core/utf8.h"

namespace core {
namespace {

// Written once by log_setup before any fork or thread; read-only afterwards.
struct LogSettings {
    char process[32] = "rostrum";
    LogLevel min_level = LogLevel::info;
};
LogSettings& settings() {
    static LogSettings s;
    return s;
}

const char* level_name(LogLevel l) {
    switch (l) {
        case LogLevel::debug:
            return "DEBUG";
        case LogLevel::info:
            return "INFO";
        case LogLevel::warn:
            return "WARN";
        case LogLevel::error:
            return "ERROR";
    }
    return "?";
}

bool is_b64url(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Length of a JWT-like run starting at s[i] ("eyJ" + segments joined by '.'), or 0.
size_t jwt_run(std::string_view s, size_t i) {
    if (s.substr(i, 3) != "eyJ") return 0;
    size_t j = i, dots = 0;
    while (j < s.size() && (is_b64url(s[j]) || s[j] == '.')) {
        if (s[j] == '.') ++dots;
        ++j;
    }
    return dots >= 1 ? j - i : 0;
}

// After a secret-bearing key (password, token, secret), the length of its value to mask.
size_t secret_value_run(std::string_view s, size_t i) {
    static const char* keys[] = {"password", "token", "secret", "authorization"};
    for (const char* k : keys) {
        std::string_view key(k);
        if (i < key.size()) continue;
        std::string_view before = s.substr(i - key.size(), key.size());
        bool same = true;
        for (size_t n = 0; n < key.size() && same; ++n)
            same = std::tolower(static_cast<unsigned char>(before[n])) == key[n];
        if (!same) continue;
        // s[i..] starts right after the key: skip `":"`, `=`, `: ` separators.
        size_t j = i;
        while (j < s.size() && (s[j] == '"' || s[j] == ':' || s[j] == '=' || s[j] == ' ')) ++j;
        size_t start = j;
        while (j < s.size() && s[j] != '"' && s[j] != '&' && s[j] != ',' && s[j] != ' ' &&
               s[j] != '}')
            ++j;
        return j > start ? j - i : 0;
    }
    return 0;
}

}  // namespace

std::string escape_log_text(std::string_view text) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        size_t n = c >= 0x20 && c < 0x7f ? 1 : c >= 0x80 ? utf8_sequence_length(text, i) : 0;
        // U+0080..U+009F (C1 controls: CSI is one) are valid UTF-8 but escaped all the same.
        if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) n = 0;
        if (c == '\\') {
            out += "\\\\";
        } else if (n > 0) {
            out.append(text.substr(i, n));
            i += n;
            continue;
        } else {  // a control byte (CR, LF, ESC, DEL...) or a byte that is not UTF-8
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
        ++i;
    }
    return out;
}

void log_setup(std::string_view process_name, LogLevel min_level) {
    LogSettings& s = settings();
    size_t n = std::min(process_name.size(), sizeof s.process - 1);
    process_name.copy(s.process, n);
    s.process[n] = '\0';
    s.min_level = min_level;
}

LogLevel parse_log_level(std::string_view s) {
    if (s == "debug") return LogLevel::debug;
    if (s == "warn") return LogLevel::warn;
    if (s == "error") return LogLevel::error;
    return LogLevel::info;
}

std::string mask_secrets(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (size_t n = jwt_run(text, i)) {
            out += "***";
            i += n;
        } else if (size_t m = secret_value_run(text, i)) {
            size_t sep = i;
            while (sep < text.size() &&
                   (text[sep] == '"' || text[sep] == ':' || text[sep] == '=' || text[sep] == ' '))
                out += text[sep++];
            out += "***";
            i += m;
        } else {
            out += text[i++];
        }
    }
    return out;
}

void log_line(LogLevel level, const LogContext& ctx, std::string_view msg) {
    const LogSettings& s = settings();
    if (level < s.min_level) return;
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(tv.tv_usec / 1000));
    std::string line = ts;
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += s.process;
    line += '[' + std::to_string(::getpid()) + ']';
    // Every field can carry request text (nginx decodes %0d%0a in the path): escaped, so that
    // one event is always exactly one line and no terminal escape reaches a reader's screen.
    if (!ctx.request_id.empty()) line += " req=" + escape_log_text(ctx.request_id);
    if (!ctx.user_id.empty()) line += " user=" + escape_log_text(ctx.user_id);
    if (!ctx.route.empty()) line += " route=" + escape_log_text(ctx.route);
    line += ' ';
    line += escape_log_text(mask_secrets(msg));
    line += '\n';
    // One write(2) per line so that lines from several processes never interleave.
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace core
