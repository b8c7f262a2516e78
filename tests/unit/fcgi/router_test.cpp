// Router: matching, path parameters, 404/405, UUID parameters.
#include "fcgi/router.h"

#include <gtest/gtest.h>

#include "core/problem.h"

namespace {

fcgi::Response ok(fcgi::Request&, fcgi::Ctx&) {
    return fcgi::Response::no_content();
}

const fcgi::Route kRoutes[] = {
    {"GET", "/api/v1/users", ok, fcgi::kPublic, "users_list"},
    {"POST", "/api/v1/users", ok, fcgi::kPublic, "users_create"},
    {"GET", "/api/v1/users/{id}", ok, fcgi::kPublic, "users_get"},
    {"DELETE", "/api/v1/users/{id}", ok, fcgi::kPublic, "users_delete"},
    {"GET", "/api/v1/things/{name}/parts/{part_id}", ok, fcgi::kPublic, "parts_get"},
    // A literal segment listed after the {id} pattern it also matches.
    {"POST", "/api/v1/users/batch-delete", ok, fcgi::kPublic, "users_batch_delete"},
};

fcgi::Request req(const char* method, const char* path) {
    fcgi::Request r;
    r.method = method;
    r.path = path;
    return r;
}

int status_of(const char* method, const char* path) {
    fcgi::Router router(kRoutes);
    fcgi::Request r = req(method, path);
    try {
        router.match(r);
        return 200;
    } catch (const core::ApiError& e) {
        return e.status;
    }
}

TEST(Router, MatchesExactPaths) {
    fcgi::Router router(kRoutes);
    fcgi::Request r = req("POST", "/api/v1/users");
    EXPECT_STREQ(router.match(r).name, "users_create");
    EXPECT_EQ(r.route_name, "users_create");
}

TEST(Router, FillsAndLowercasesUuidParameters) {
    fcgi::Router router(kRoutes);
    fcgi::Request r = req("GET", "/api/v1/users/2642D2A7-ADF0-4093-A9FA-6387C21B420C");
    EXPECT_STREQ(router.match(r).name, "users_get");
    EXPECT_EQ(r.path_param("id"), "2642d2a7-adf0-4093-a9fa-6387c21b420c");
}

TEST(Router, NonUuidIdIsNotFound) {
    EXPECT_EQ(status_of("GET", "/api/v1/users/1' OR '1'='1"), 404);
    EXPECT_EQ(status_of("GET", "/api/v1/users/2642d2a7-adf0-4093-a9fa-6387c21b420"), 404);
    EXPECT_EQ(status_of("GET", "/api/v1/users/2642d2a7xadf0-4093-a9fa-6387c21b420c"), 404);
    EXPECT_EQ(status_of("GET", "/api/v1/users/"), 404);
}

TEST(Router, NamedNonUuidParametersPassThrough) {
    fcgi::Router router(kRoutes);
    fcgi::Request r =
        req("GET", "/api/v1/things/widget/parts/2642d2a7-adf0-4093-a9fa-6387c21b420c");
    EXPECT_STREQ(router.match(r).name, "parts_get");
    EXPECT_EQ(r.path_param("name"), "widget");
    EXPECT_EQ(status_of("GET", "/api/v1/things/widget/parts/7"), 404);
}

TEST(Router, UnknownMethodOnKnownPathIs405WithAllow) {
    fcgi::Router router(kRoutes);
    fcgi::Request r = req("PUT", "/api/v1/users");
    try {
        router.match(r);
        FAIL() << "expected 405";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 405);
        ASSERT_EQ(e.headers.size(), 1u);
        EXPECT_EQ(e.headers[0].first, "Allow");
        EXPECT_EQ(e.headers[0].second, "GET, HEAD, POST");
    }
}

// /users/batch-delete is not an id: the literal route answers wherever it is listed, and its
// other methods are 405 (not the 404 of a bad id).
TEST(Router, LiteralSegmentBeatsAnIdPatternListedBefore) {
    fcgi::Router router(kRoutes);
    fcgi::Request r = req("POST", "/api/v1/users/batch-delete");
    EXPECT_STREQ(router.match(r).name, "users_batch_delete");
    EXPECT_EQ(status_of("GET", "/api/v1/users/batch-delete"), 405);
    EXPECT_EQ(status_of("GET", "/api/v1/users/batch-nothing"), 404);
}

TEST(Router, HeadMatchesGet) {
    EXPECT_EQ(status_of("HEAD", "/api/v1/users"), 200);
}

TEST(Router, UnknownPathsAre404) {
    EXPECT_EQ(status_of("GET", "/api/v1/user"), 404);
    EXPECT_EQ(status_of("GET", "/api/v1/users/x/y"), 404);
    EXPECT_EQ(status_of("GET", "/api/v1/usersx"), 404);
    EXPECT_EQ(status_of("GET", ""), 404);
    EXPECT_EQ(status_of("GET", "/"), 404);
}

TEST(Uuid, Normalise) {
    std::string s = "ABCDEF01-2345-6789-ABCD-EF0123456789";
    EXPECT_TRUE(core::normalise_uuid(s));
    EXPECT_EQ(s, "abcdef01-2345-6789-abcd-ef0123456789");
    std::string bad = "abcdef0123456789abcdef0123456789";
    EXPECT_FALSE(core::normalise_uuid(bad));
}

}  // namespace
