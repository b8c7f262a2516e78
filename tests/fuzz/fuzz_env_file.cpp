// libFuzzer target for core/env_file: configuration files of arbitrary bytes. Every input is
// either refused with ConfigError or gives names of the allowed alphabet and values with no
// NUL or line break, and parsing what it gave back (NAME='value' lines) gives the same pairs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/env_file.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_env_file invariant broken: %s\n", what);
    std::abort();
}

bool valid_name(const std::string& n) {
    if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
    for (char c : n)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::pair<std::string, std::string>> pairs;
    try {
        pairs = core::parse_env_file(text);
    } catch (const core::ConfigError&) {
        return 0;
    }
    std::string again;
    for (const auto& [name, value] : pairs) {
        require(valid_name(name), "a name outside [A-Z_][A-Z0-9_]*");
        require(value.find_first_of(std::string("\n\r\0", 3)) == std::string::npos,
                "a value with a line break or NUL");
        // A value quoted with the quote it does not contain reads back as itself.
        char q = value.find('\'') == std::string::npos ? '\'' : '"';
        if (value.find(q) != std::string::npos) continue;  // holds both kinds: not re-quotable
        again += name + "=" + q + value + q + "\n";
    }
    if (again.empty()) return 0;
    auto back = core::parse_env_file(again);
    size_t j = 0;
    for (const auto& p : pairs) {
        char q = p.second.find('\'') == std::string::npos ? '\'' : '"';
        if (p.second.find(q) != std::string::npos) continue;
        require(j < back.size() && back[j] == p, "re-parsing the output changed it");
        ++j;
    }
    return 0;
}
