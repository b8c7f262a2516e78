// Configuration files (core/env_file.h): the format, its refusals, the owner-only mode, and
// load_config reading it under the environment.
#include "core/env_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(EnvFile, ParsesNamesValuesCommentsAndQuotes) {
    Pairs got = core::parse_env_file(
        "# a comment\n\n  ROSTRUM_DB_URL = postgresql://u@h/db?sslmode=verify-full \n"
        "export ROSTRUM_LOG_LEVEL=debug\nROSTRUM_SITE_HOSTS=\"a.example, b.example\"\n"
        "ROSTRUM_JWT_SECRET='s3cr#t \"quoted\"'\nROSTRUM_DATA_DIR=\n   # indented comment");
    Pairs want = {{"ROSTRUM_DB_URL", "postgresql://u@h/db?sslmode=verify-full"},
                  {"ROSTRUM_LOG_LEVEL", "debug"},
                  {"ROSTRUM_SITE_HOSTS", "a.example, b.example"},
                  {"ROSTRUM_JWT_SECRET", "s3cr#t \"quoted\""},
                  {"ROSTRUM_DATA_DIR", ""}};
    EXPECT_EQ(got, want);
    EXPECT_TRUE(core::parse_env_file("").empty());
    EXPECT_TRUE(core::parse_env_file("\n\n# only comments\n").empty());
}

TEST(EnvFile, RefusesWhatItCannotReadExactlyNamingTheLine) {
    const char* bad[] = {
        "ROSTRUM_DB_URL",          // no '='
        "=value",                  // no name
        "rostrum_db_url=x",        // lower case
        "1ROSTRUM=x",              // starts with a digit
        "ROSTRUM DB=x",            // space inside the name
        "ROSTRUM_A=\"unclosed",    // quote not closed
        "ROSTRUM_A='mixed\"",      // different quotes
        "ROSTRUM_A=\"in\"side\"",  // the same quote inside
        "ROSTRUM_A=\"",            // a lone quote
        "ROSTRUM_A=x\r",           // Windows line end
    };
    for (const char* text : bad) {
        std::string t = text;
        EXPECT_THROW(core::parse_env_file("# first\n" + t), core::ConfigError) << t;
    }
    EXPECT_THROW(core::parse_env_file(std::string("ROSTRUM_A=x\0y", 13)), core::ConfigError);
    try {
        core::parse_env_file("ROSTRUM_OK=1\n\nbroken line\n");
        FAIL();
    } catch (const core::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
    }
}

class ConfigFile : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("rostrum-conf-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "rostrum.conf").string();
        setenv("ROSTRUM_CONFIG_FILE", path_.c_str(), 1);
        setenv("ROSTRUM_DATA_DIR", dir_.c_str(), 1);
    }
    void TearDown() override {
        unsetenv("ROSTRUM_CONFIG_FILE");
        unsetenv("ROSTRUM_DATA_DIR");
        unsetenv("ROSTRUM_LOG_LEVEL");
        std::filesystem::remove_all(dir_);
    }
    void write(const std::string& text, mode_t mode) {
        std::ofstream(path_) << text;
        ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    }
    std::filesystem::path dir_;
    std::string path_;
};

TEST_F(ConfigFile, ValuesComeFromTheFileUnderTheEnvironment) {
    write("ROSTRUM_LOG_LEVEL=debug\nROSTRUM_API_WORKERS=7\nROSTRUM_DATABASE_URL=host=/x dbname=y\n",
          0600);
    core::Config c = core::load_config(false);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.api_workers, 7);
    EXPECT_EQ(c.db_url, "host=/x dbname=y");  // the alias works in the file too
    setenv("ROSTRUM_LOG_LEVEL", "warn", 1);   // the environment wins
    EXPECT_EQ(core::load_config(false).log_level, "warn");
}

TEST_F(ConfigFile, OpenToOthersOrMisspeltOrBadValueRefusesToStart) {
    write("ROSTRUM_LOG_LEVEL=debug\n", 0640);
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    write("ROSTRUM_LOG_LEVEL=debug\n", 0604);
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    write("ROSTRUM_LOG_LEVLE=debug\n", 0600);
    try {
        core::load_config(false);
        FAIL();
    } catch (const core::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("ROSTRUM_LOG_LEVLE"), std::string::npos) << e.what();
    }
    write("ROSTRUM_API_WORKERS=0\n", 0600);
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    write("PATH=/bin\n", 0600);  // only Rostrum's settings
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

TEST_F(ConfigFile, NamedButMissingIsAnError) {
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

}  // namespace
