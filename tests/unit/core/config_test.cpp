// Config: defaults, environment overrides, bounds with messages naming the key, the secret.
#include "core/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace {

// Sets environment variables for one test and restores them.
class Env {
  public:
    ~Env() {
        for (const auto& n : names_) unsetenv(n.c_str());
    }
    void set(const std::string& name, const std::string& value) {
        names_.push_back(name);
        setenv(name.c_str(), value.c_str(), 1);
    }

  private:
    std::vector<std::string> names_;
};

std::string temp_dir() {
    char tmpl[] = "/tmp/rostrum-config-XXXXXX";
    return mkdtemp(tmpl);
}

TEST(Config, EnvNames) {
    EXPECT_EQ(core::env_name("api.workers"), "ROSTRUM_API_WORKERS");
    EXPECT_EQ(core::env_name("db.url"), "ROSTRUM_DB_URL");
}

TEST(Config, DefaultsDeriveFromDataDir) {
    Env env;
    std::string dir = temp_dir();
    env.set("ROSTRUM_DATA_DIR", dir);
    core::Config c = core::load_config(false);
    EXPECT_EQ(c.data_dir, dir);
    EXPECT_EQ(c.api_socket, dir + "/run/api.sock");
    EXPECT_EQ(c.db_url, "host=" + dir + "/pg/run dbname=rostrum");
    EXPECT_EQ(c.access_ttl_s, 900);
    EXPECT_GE(c.api_workers, 1);
}

TEST(Config, BadValueNamesKeyAndValue) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_API_WORKERS", "0");
    try {
        core::load_config(false);
        FAIL() << "expected ConfigError";
    } catch (const core::ConfigError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("api.workers"), std::string::npos) << msg;
        EXPECT_NE(msg.find("\"0\""), std::string::npos) << msg;
        EXPECT_NE(msg.find("ROSTRUM_API_WORKERS"), std::string::npos) << msg;
    }
}

TEST(Config, RejectsNonNumbersAndEnums) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_API_MAX_REQUESTS", "12abc");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    unsetenv("ROSTRUM_API_MAX_REQUESTS");
    env.set("ROSTRUM_LOG_LEVEL", "loud");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

// The live search width reaches the decoders' configuration; below 500 the search would
// lose too much to be a setting anyone means.
TEST(Config, LiveSearchWidthHasADefaultAndBounds) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    EXPECT_EQ(core::load_config(false).live_max_hmms, 3000);
    env.set("ROSTRUM_LIVE_MAX_HMMS_PER_FRAME", "30000");
    EXPECT_EQ(core::load_config(false).live_max_hmms, 30000);
    env.set("ROSTRUM_LIVE_MAX_HMMS_PER_FRAME", "100");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

// A saved stream is a WAV with 32-bit sizes: live.max_stream_s at 48 kHz must fit in them
// (86400 s would be 8.3 GB, a header that wraps around past 4 GiB).
TEST(Config, LiveMaxStreamKeepsSavedWavUnder4GiB) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_LIVE_MAX_STREAM_S", std::to_string(core::kLiveMaxStreamSeconds));
    EXPECT_EQ(core::load_config(false).live_max_stream_s, 44739);
    env.set("ROSTRUM_LIVE_MAX_STREAM_S", "44740");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    env.set("ROSTRUM_LIVE_MAX_STREAM_S", "86400");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

// Back-pressure and the stream cap have defaults that keep ordinary clients working.
TEST(Config, LiveBackPressureDefaults) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    core::Config c = core::load_config(false);
    EXPECT_EQ(c.live_max_queued_s, 5);
    EXPECT_EQ(c.live_max_ahead_s, 600);
    EXPECT_EQ(c.live_max_streams, 4 * c.live_decoders);  // each stream holds a decoder
    env.set("ROSTRUM_LIVE_DECODERS", "3");
    EXPECT_EQ(core::load_config(false).live_max_streams, 12);
    env.set("ROSTRUM_LIVE_MAX_STREAMS", "0");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

TEST(Config, ShortSecretRefused) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_JWT_SECRET", "too-short");
    EXPECT_THROW(core::load_config(true), core::ConfigError);
}

TEST(Config, GeneratesSecretFileWithMode0600) {
    Env env;
    std::string dir = temp_dir();
    env.set("ROSTRUM_DATA_DIR", dir);
    core::Config c = core::load_config(true);
    EXPECT_GE(c.jwt_secret.size(), 32u);
    struct stat st;
    ASSERT_EQ(stat((dir + "/secrets/jwt.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // A second load reads the same secret back.
    EXPECT_EQ(core::load_config(true).jwt_secret, c.jwt_secret);
    std::filesystem::remove_all(dir);
}

TEST(Config, DescribeMasksSecrets) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_JWT_SECRET", std::string(40, 'k'));
    std::string text = core::describe_config(core::load_config(true));
    EXPECT_EQ(text.find(std::string(40, 'k')), std::string::npos);
    EXPECT_NE(text.find("jwt.secret = ***"), std::string::npos);
}

}  // namespace
