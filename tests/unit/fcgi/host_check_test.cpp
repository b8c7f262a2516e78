// site.hosts matching (421 for other Hosts) and the same-site rule of cookie-setting routes.
#include <gtest/gtest.h>

#include "core/problem.h"
#include "fcgi/site.h"

namespace {

const std::vector<std::string> kHosts = {"127.0.0.1", "localhost", "[::1]", "app.example.com:8443"};

TEST(HostCheck, LoopbackNamesWithAnyPort) {
    for (const char* h :
         {"127.0.0.1", "127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]", "[::1]:8080"})
        EXPECT_TRUE(fcgi::host_allowed(h, kHosts)) << h;
}

TEST(HostCheck, AnEntryWithAPortAdmitsOnlyThatPort) {
    EXPECT_TRUE(fcgi::host_allowed("app.example.com:8443", kHosts));
    EXPECT_FALSE(fcgi::host_allowed("app.example.com", kHosts));
    EXPECT_FALSE(fcgi::host_allowed("app.example.com:443", kHosts));
}

TEST(HostCheck, OtherNamesAndJunkAreRefused) {
    for (const char* h : {"attacker.example", "attacker.example:8080", "localhost.", "127.0.0.2",
                          "::1", "[::1", "[::1]x", "localhost:", "localhost:80a", "", ":8080",
                          "localhost:8080:1", "evil.localhost"})
        EXPECT_FALSE(fcgi::host_allowed(h, kHosts)) << h;
}

fcgi::Request with(std::vector<std::pair<std::string, std::string>> headers) {
    fcgi::Request r;
    r.headers = std::move(headers);
    return r;
}

int status_of(const fcgi::Request& r) {
    try {
        fcgi::require_same_site(r, kHosts);
        return 0;
    } catch (const core::ApiError& e) {
        return e.status;
    }
}

TEST(SameSite, NonBrowsersAndSameOriginPass) {
    EXPECT_EQ(status_of(with({})), 0);
    EXPECT_EQ(status_of(with({{"origin", "http://127.0.0.1:8080"}})), 0);
    EXPECT_EQ(status_of(with(
                  {{"origin", "https://app.example.com:8443"}, {"sec-fetch-site", "same-origin"}})),
              0);
    EXPECT_EQ(status_of(with({{"sec-fetch-site", "none"}})), 0);  // typed into the address bar
}

TEST(SameSite, CrossSiteIsRefused) {
    EXPECT_EQ(status_of(with({{"origin", "https://attacker.example"}})), 403);
    EXPECT_EQ(status_of(with({{"origin", "null"}})), 403);
    EXPECT_EQ(status_of(with({{"origin", "http://127.0.0.1:8080/path"}})), 403);
    EXPECT_EQ(status_of(with({{"origin", "ftp://127.0.0.1"}})), 403);
    EXPECT_EQ(status_of(with({{"sec-fetch-site", "cross-site"}})), 403);
    // A forged-looking Origin does not outweigh the browser's own Sec-Fetch-Site.
    EXPECT_EQ(status_of(with({{"origin", "http://127.0.0.1"}, {"sec-fetch-site", "Cross-Site"}})),
              403);
}

TEST(HostCheck, RequireAllowedHostIs421) {
    try {
        fcgi::require_allowed_host(with({{"host", "attacker.example"}}), kHosts);
        FAIL() << "no 421";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 421);
        EXPECT_STREQ(core::status_text(421), "Misdirected Request");
    }
    EXPECT_THROW(fcgi::require_allowed_host(with({{"host", ""}}), kHosts), core::ApiError);
    EXPECT_NO_THROW(fcgi::require_allowed_host(with({}), kHosts));  // no browser: no rebinding
    EXPECT_NO_THROW(fcgi::require_allowed_host(with({{"host", "localhost:8080"}}), kHosts));
}

}  // namespace
