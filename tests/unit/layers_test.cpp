// The layering holds for every #include: each folder includes only the folders its library
// links (the rostrum_layer table in CMakeLists.txt, passed in as ROSTRUM_LAYERS). Every header
// lives under one include root, so without this check the compiler would accept fcgi/
// including handlers/ and the mistake would surface, if at all, as a link-order accident.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#ifndef ROSTRUM_LAYERS
#error "tests/CMakeLists.txt passes the layer table as ROSTRUM_LAYERS"
#endif

namespace {

namespace fs = std::filesystem;

// folder → the folders it may include (itself always).
using Layers = std::map<std::string, std::set<std::string>>;

// "core:|db:core|auth:core,db" → {core: {}, db: {core}, auth: {core, db}}.
Layers parse_layers(std::string_view table) {
    Layers out;
    while (!table.empty()) {
        size_t bar = table.find('|');
        std::string_view entry = table.substr(0, bar);
        table = bar == std::string_view::npos ? std::string_view() : table.substr(bar + 1);
        size_t colon = entry.find(':');
        auto& uses = out[std::string(entry.substr(0, colon))];
        std::string_view list = colon == std::string_view::npos ? "" : entry.substr(colon + 1);
        while (!list.empty()) {
            size_t comma = list.find(',');
            if (comma > 0) uses.emplace(list.substr(0, comma));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
    }
    return out;
}

// The path of an `#include "x/y.h"` or `#include <x/y.h>` line (spaces allowed around '#'),
// or "" when the line is no include.
std::string included_path(std::string_view line) {
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos || line[i] != '#') return {};
    i = line.find_first_not_of(" \t", i + 1);
    if (i == std::string_view::npos || line.substr(i, 7) != "include") return {};
    i = line.find_first_of("\"<", i + 7);
    if (i == std::string_view::npos) return {};
    size_t end = line.find(line[i] == '"' ? '"' : '>', i + 1);
    if (end == std::string_view::npos) return {};
    return std::string(line.substr(i + 1, end - i - 1));
}

// The project folder an include path names ("../handlers/routes.h" → "handlers"), or "" for
// a same-folder or system header.
std::string folder_of(std::string path, const Layers& layers) {
    while (path.rfind("./", 0) == 0 || path.rfind("../", 0) == 0) path.erase(0, path.find('/') + 1);
    size_t slash = path.find('/');
    if (slash == std::string::npos) return {};
    std::string folder = path.substr(0, slash);
    return layers.count(folder) ? folder : std::string();
}

// "fcgi/pool.cpp:23: fcgi may not include handlers/routes.h" for every offending line.
std::vector<std::string> violations(const fs::path& root, const Layers& layers) {
    std::vector<std::string> out;
    for (const auto& [folder, uses] : layers) {
        if (!fs::is_directory(root / folder)) continue;
        for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
            auto ext = entry.path().extension();
            if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".inc"))
                continue;
            std::ifstream in(entry.path());
            std::string line;
            for (int n = 1; std::getline(in, line); ++n) {
                std::string path = included_path(line);
                std::string target = folder_of(path, layers);
                if (target.empty() || target == folder || uses.count(target)) continue;
                out.push_back(fs::relative(entry.path(), root).string() + ":" + std::to_string(n) +
                              ": " + folder + " may not include " + path);
            }
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += "\n  " + x;
    return s;
}

TEST(Layers, EveryIncludeFollowsTheLayerTable) {
    Layers layers = parse_layers(ROSTRUM_LAYERS);
    ASSERT_GE(layers.size(), 9u) << ROSTRUM_LAYERS;
    auto v = violations(ROSTRUM_SOURCE_DIR, layers);
    EXPECT_TRUE(v.empty()) << "includes against the layers of CMakeLists.txt:" << joined(v);
}

TEST(Layers, TheTableSaysWhatTheIssueAsks) {
    Layers l = parse_layers(ROSTRUM_LAYERS);
    EXPECT_TRUE(l.at("core").empty());
    EXPECT_EQ(l.at("fcgi"), (std::set<std::string>{"core"}));
    EXPECT_EQ(l.at("auth"), (std::set<std::string>{"core", "db"}));
    EXPECT_EQ(l.at("live"), (std::set<std::string>{"core", "db", "auth", "speech"}));
    EXPECT_EQ(l.at("speech"), (std::set<std::string>{"core"}));
}

// The check itself: a tree with one wrong include is reported with its file and line, and the
// allowed, same-folder, system and relative forms are told apart.
TEST(Layers, AWrongIncludeIsNamedWithItsLine) {
    fs::path root = fs::temp_directory_path() / ("layers_test_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "fcgi");
    fs::create_directories(root / "handlers");
    std::ofstream(root / "fcgi" / "pool.cpp") << "#include \"fcgi/pool.h\"\n"
                                                 "#include <signal.h>\n"
                                                 "#include \"core/log.h\"\n"
                                                 "\n"
                                                 "#include \"handlers/routes.h\"\n"
                                                 "  #  include <handlers/api.h>\n"
                                                 "#include \"../handlers/common.h\"\n"
                                                 "#include \"scoreboard.h\"\n";
    std::ofstream(root / "handlers" / "api.cpp") << "#include \"fcgi/app.h\"\n";
    auto v = violations(root, parse_layers("core:|fcgi:core|handlers:core,fcgi"));
    fs::remove_all(root);
    EXPECT_EQ(v, (std::vector<std::string>{
                     "fcgi/pool.cpp:5: fcgi may not include handlers/routes.h",
                     "fcgi/pool.cpp:6: fcgi may not include handlers/api.h",
                     "fcgi/pool.cpp:7: fcgi may not include ../handlers/common.h"}));
}

}  // namespace
