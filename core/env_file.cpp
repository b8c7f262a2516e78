// Parsing KEY=VALUE configuration files (core/env_file.h). Hand-written: the format is systemd's
// EnvironmentFile subset that also reads in a shell, a dozen lines; no Debian library parses
// exactly that (and refuses the rest) without bringing a whole configuration language.
#include "core/env_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/config.h"
#include "core/fs.h"

namespace core {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool valid_name(std::string_view n) {
    if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
    for (char c : n)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

[[noreturn]] void bad_line(size_t line, const std::string& why) {
    throw ConfigError("configuration file line " + std::to_string(line) + ": " + why);
}

// The value after '=': a quoted one (already checked to close) without its quotes, taken
// literally; else as written, spaces around it dropped.
std::string value_of(std::string_view v) {
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
    return std::string(v);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_env_file(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t line = 0;
    while (!text.empty()) {
        ++line;
        size_t end = text.find('\n');
        std::string_view raw = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        if (raw.find('\0') != std::string_view::npos) bad_line(line, "contains a NUL byte");
        if (raw.find('\r') != std::string_view::npos)
            bad_line(line, "contains a carriage return (save the file with Unix line ends)");
        std::string_view l = trim(raw);
        if (l.empty() || l.front() == '#') continue;
        if (l.substr(0, 7) == "export ") l = trim(l.substr(7));
        size_t eq = l.find('=');
        if (eq == std::string_view::npos) bad_line(line, "expected NAME=VALUE");
        std::string_view name = trim(l.substr(0, eq));
        if (!valid_name(name))
            bad_line(line, "\"" + std::string(name.substr(0, 64)) +
                               "\" is not a variable name (A-Z, 0-9 and _)");
        std::string_view rest = trim(l.substr(eq + 1));
        if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
            char q = rest.front();
            if (rest.size() < 2 || rest.back() != q ||
                rest.substr(1, rest.size() - 2).find(q) != std::string_view::npos)
                bad_line(line, std::string("a value opened with ") + q +
                                   " must end with it, and hold no other");
        }
        out.emplace_back(std::string(name), value_of(rest));
    }
    return out;
}

std::string config_file_path() {
    if (const char* p = std::getenv("ROSTRUM_CONFIG_FILE"); p && *p) return p;
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    std::filesystem::path beside = exe.parent_path() / "rostrum.conf";
    return std::filesystem::exists(beside, ec) ? beside.string() : "";
}

std::vector<std::pair<std::string, std::string>> read_config_file(const std::string& path) {
    if (path.empty()) return {};
    std::string text, error;
    mode_t mode = 0;
    // The mode is the open file's (no window between the check and the read).
    switch (read_private_file(path, text, mode, error)) {
        case PrivateRead::ok:
            break;
        case PrivateRead::missing:
            throw ConfigError("configuration file " + path + " does not exist");
        case PrivateRead::failed:
            throw ConfigError("configuration file " + path + " cannot be read (" + error + ")");
    }
    if ((mode & 077) != 0) {
        char shown[8];
        std::snprintf(shown, sizeof shown, "%04o", static_cast<unsigned>(mode & 07777));
        throw ConfigError("configuration file " + path + " is open to its group or others (mode " +
                          shown + "); it may hold secrets: chmod 600 it");
    }
    return parse_env_file(text);
}

}  // namespace core
