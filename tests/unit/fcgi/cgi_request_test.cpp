// The request's path and id from CGI parameters: nginx's DOCUMENT_URI, Apache's rewrite to the
// entry file (REDIRECT_URL below the install's directory), a CGI server mapping routes to us
// (SCRIPT_NAME + PATH_INFO); REQUEST_ID, UNIQUE_ID, or one made here.
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>

#include <map>
#include <string>

#include "fcgi/exchange.h"

namespace {

class FakeExchange final : public fcgi::Exchange {
  public:
    explicit FakeExchange(std::map<std::string, std::string> params) : params_(std::move(params)) {}
    const char* param(const char* name) const override {
        auto it = params_.find(name);
        return it == params_.end() ? nullptr : it->second.c_str();
    }
    char** envp() const override { return nullptr; }
    long read(char*, size_t) override { return 0; }
    void write(std::string_view) override {}

  private:
    std::map<std::string, std::string> params_;
};

std::string self() {
    char buf[PATH_MAX];
    return realpath("/proc/self/exe", buf) ? buf : "";
}

std::string path_of(std::map<std::string, std::string> params) {
    FakeExchange ex(std::move(params));
    return fcgi::read_request(ex).path;
}

TEST(CgiRequest, NginxDocumentUriWins) {
    EXPECT_EQ(path_of({{"DOCUMENT_URI", "/api/v1/x"}, {"SCRIPT_NAME", "/s"}, {"PATH_INFO", "/p"}}),
              "/api/v1/x");
}

TEST(CgiRequest, ACgiServerMappingRoutesGivesScriptNamePlusPathInfo) {
    EXPECT_EQ(path_of({{"SCRIPT_NAME", "/healthz"}}), "/healthz");
    EXPECT_EQ(path_of({{"SCRIPT_NAME", ""}, {"PATH_INFO", "/api/v1/sessions"}}),
              "/api/v1/sessions");
    // A script file that is not this program: the classic concatenation.
    EXPECT_EQ(path_of({{"SCRIPT_NAME", "/cgi-bin/x"},
                       {"PATH_INFO", "/y"},
                       {"SCRIPT_FILENAME", "/usr/lib/cgi-bin/x"}}),
              "/cgi-bin/x/y");
}

TEST(CgiRequest, ApacheRewriteToTheEntryFileRoutesTheOriginalPath) {
    ASSERT_FALSE(self().empty());
    EXPECT_EQ(path_of({{"SCRIPT_NAME", "/rostrum"},
                       {"SCRIPT_FILENAME", self()},
                       {"REDIRECT_URL", "/api/v1/sessions/abc/audio"}}),
              "/api/v1/sessions/abc/audio");
    // Installed in a subdirectory of the site: its routes are below it.
    EXPECT_EQ(path_of({{"SCRIPT_NAME", "/speech/rostrum"},
                       {"SCRIPT_FILENAME", self()},
                       {"REDIRECT_URL", "/speech/api/v1/auth/login"}}),
              "/api/v1/auth/login");
    // The entry asked for by name: what follows it.
    EXPECT_EQ(
        path_of(
            {{"SCRIPT_NAME", "/rostrum"}, {"SCRIPT_FILENAME", self()}, {"PATH_INFO", "/healthz"}}),
        "/healthz");
    EXPECT_EQ(path_of({{"SCRIPT_NAME", "/rostrum"}, {"SCRIPT_FILENAME", self()}}), "/");
}

TEST(CgiRequest, EveryRequestHasAnId) {
    FakeExchange nginx({{"REQUEST_ID", "abc123"}, {"UNIQUE_ID", "u"}});
    EXPECT_EQ(fcgi::read_request(nginx).request_id, "abc123");
    EXPECT_EQ(nginx.request_id, "abc123");
    FakeExchange apache(std::map<std::string, std::string>{{"UNIQUE_ID", "aXbYcZ"}});
    EXPECT_EQ(fcgi::read_request(apache).request_id, "aXbYcZ");
    FakeExchange bare(std::map<std::string, std::string>{});
    std::string a = fcgi::read_request(bare).request_id;
    std::string b = fcgi::read_request(bare).request_id;
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
    EXPECT_NE(a, b);
}

}  // namespace
