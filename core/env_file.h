// Configuration files in the environment's own format: `ROSTRUM_DB_URL=postgresql://...`, one
// per line, `#` comments and blank lines ignored. The same file serves as systemd's
// EnvironmentFile= and as the configuration beside the binary on a shared host, where a CGI
// program gets no environment of its own (core/config.cpp reads it under the environment).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace core {

// NAME=VALUE pairs in file order. NAME is [A-Z_][A-Z0-9_]*; VALUE is the rest of the line
// without surrounding spaces, or the inside of one pair of matching quotes (' or ") taken
// literally. An optional leading `export ` is allowed (a file sourced by a shell). Throws
// ConfigError naming the line for anything else: a line without '=', a bad name, an unclosed
// quote, a NUL or a CR (a file saved with Windows line ends is refused, not misread).
std::vector<std::pair<std::string, std::string>> parse_env_file(std::string_view text);

// The configuration file of a process: $ROSTRUM_CONFIG_FILE when set, else rostrum.conf beside
// the executable when it exists; "" when neither. The file must be a regular file readable by
// its owner only when it exists (it holds the database URL and perhaps the JWT secret):
// group- or world-readable refuses to start, with the path and the mode in the error.
std::string config_file_path();
// The file's pairs (parse_env_file), or none when path is "". Throws ConfigError.
std::vector<std::pair<std::string, std::string>> read_config_file(const std::string& path);

}  // namespace core
