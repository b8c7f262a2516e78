// Config: defaults, environment overrides, bounds with messages naming the key, the secret.
#include "core/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

void write_text(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs load_config(true) in a child that is `uid` (root: any); its exit code: 0 loaded,
// 3 ConfigError, 4 another error, 5 the test could not become `uid`.
int load_in_child_as(uid_t uid) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) _exit(5);
        try {
            core::load_config(true);
            _exit(0);
        } catch (const core::ConfigError&) {
            _exit(3);
        } catch (...) {
            _exit(4);
        }
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
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

// /v1/audio/transcriptions holds an API worker while it waits: the wait ends before the master's
// request deadline (else the master would kill the worker mid-answer), and only half of the
// workers may wait by default.
TEST(Config, OpenAiWaitFitsTheRequestDeadline) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_API_WORKERS", "6");
    core::Config c = core::load_config(false);
    EXPECT_EQ(c.openai_max_wait_s, 100);
    EXPECT_EQ(c.openai_max_waiting, 3);
    env.set("ROSTRUM_API_WORKERS", "1");
    EXPECT_EQ(core::load_config(false).openai_max_waiting, 1);
    env.set("ROSTRUM_OPENAI_MAX_WAIT_S", "111");  // api.request_timeout_s 120 - 10 = 110
    try {
        core::load_config(false);
        ADD_FAILURE() << "a wait past the request deadline was accepted";
    } catch (const core::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("api.request_timeout_s"), std::string::npos)
            << e.what();
    }
    env.set("ROSTRUM_API_REQUEST_TIMEOUT_S", "121");
    EXPECT_EQ(core::load_config(false).openai_max_wait_s, 111);
    env.set("ROSTRUM_OPENAI_MAX_WAIT_S", "0");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    env.set("ROSTRUM_OPENAI_MAX_WAIT_S", "1");
    env.set("ROSTRUM_OPENAI_MAX_WAITING", "0");
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

// A key anyone on the machine can read signs anyone's tokens: refused, with the fix named,
// and the file left as it was.
TEST(Config, KeyFileOpenToOthersIsRefused) {
    Env env;
    std::string dir = temp_dir();
    env.set("ROSTRUM_DATA_DIR", dir);
    env.set("ROSTRUM_JWT_SECRET_FILE", dir + "/jwt.key");
    std::string key(64, 'k');
    for (mode_t m : {0644, 0640, 0604, 0660}) {
        write_text(dir + "/jwt.key", key + "\n", m);
        try {
            core::load_config(true);
            ADD_FAILURE() << "mode " << std::oct << m << " accepted";
        } catch (const core::ConfigError& e) {
            std::string msg = e.what();
            EXPECT_NE(msg.find("jwt.secret_file"), std::string::npos) << msg;
            EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
        }
        EXPECT_EQ(read_text(dir + "/jwt.key"), key + "\n");
    }
    write_text(dir + "/jwt.key", key + "\n", 0600);
    EXPECT_EQ(core::load_config(true).jwt_secret, key);
    write_text(dir + "/jwt.key", key + "\n", 0400);
    EXPECT_EQ(core::load_config(true).jwt_secret, key);
    std::filesystem::remove_all(dir);
}

// A key file the process cannot read (here: root's, read by nobody) is a fault to report,
// not a missing key: replacing it would log every user out and hide the fault.
TEST(Config, UnreadableKeyFileIsNeverReplaced) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to read the file as another user";
    Env env;
    std::string dir = temp_dir();
    ASSERT_EQ(chmod(dir.c_str(), 0777), 0);  // nobody could write a new key beside it
    env.set("ROSTRUM_DATA_DIR", dir);
    env.set("ROSTRUM_JWT_SECRET_FILE", dir + "/jwt.key");
    std::string key(64, 'k');
    write_text(dir + "/jwt.key", key + "\n", 0600);
    EXPECT_EQ(load_in_child_as(65534), 3);
    EXPECT_EQ(read_text(dir + "/jwt.key"), key + "\n");
    std::filesystem::remove_all(dir);
}

// Generated only where there is no file; two processes starting at once end up with one key.
TEST(Config, GeneratedKeyIsNeverWrittenOverAnother) {
    Env env;
    std::string dir = temp_dir();
    env.set("ROSTRUM_DATA_DIR", dir);
    std::vector<pid_t> kids;
    for (int i = 0; i < 4; ++i) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            try {
                core::Config c = core::load_config(true);
                _exit(read_text(dir + "/secrets/jwt.key") == c.jwt_secret + "\n" ? 0 : 1);
            } catch (...) {
                _exit(2);
            }
        }
        kids.push_back(pid);
    }
    for (pid_t pid : kids) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    struct stat st;
    ASSERT_EQ(stat((dir + "/secrets/jwt.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto entries = std::distance(std::filesystem::directory_iterator(dir + "/secrets"),
                                 std::filesystem::directory_iterator());
    EXPECT_EQ(entries, 1) << "a temp file was left beside the key";
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

// site.hosts: loopback names and the server name by default; entries lower-cased; junk refused.
TEST(Config, SiteHostsAndFirstUserAdmin) {
    Env env;
    env.set("ROSTRUM_DATA_DIR", temp_dir());
    env.set("ROSTRUM_SERVER_NAME", "Speech.Example.org");
    core::Config c = core::load_config(false);
    EXPECT_EQ(c.site_hosts,
              (std::vector<std::string>{"127.0.0.1", "localhost", "[::1]", "speech.example.org"}));
    EXPECT_TRUE(c.first_user_admin);
    env.set("ROSTRUM_SITE_HOSTS", " a.example:8443 ,B.example,");
    env.set("ROSTRUM_AUTH_FIRST_USER_ADMIN", "false");
    c = core::load_config(false);
    EXPECT_EQ(c.site_hosts, (std::vector<std::string>{"a.example:8443", "b.example"}));
    EXPECT_FALSE(c.first_user_admin);
    env.set("ROSTRUM_SITE_HOSTS", "evil/path");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
    env.set("ROSTRUM_SITE_HOSTS", ",");
    EXPECT_THROW(core::load_config(false), core::ConfigError);
}

}  // namespace
