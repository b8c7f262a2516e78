// The route table and openapi.json describe the same API: a route missing from either fails.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/json.h"
#include "handlers/routes.h"

namespace handlers {
extern const std::string_view kOpenApiJson;
}

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

TEST(Routes, TableAndOpenApiAgree) {
    core::JsonPtr doc(cJSON_Parse(std::string(handlers::kOpenApiJson).c_str()));
    ASSERT_TRUE(doc) << "openapi.json does not parse";
    const cJSON* paths = cJSON_GetObjectItemCaseSensitive(doc.get(), "paths");
    ASSERT_TRUE(cJSON_IsObject(paths));
    std::set<std::string> documented;
    for (const cJSON* p = paths->child; p; p = p->next) {
        for (const cJSON* op = p->child; op; op = op->next) {
            std::string method = op->string;
            if (method == "parameters") continue;
            documented.insert(lower(method) + " " + p->string);
        }
    }
    std::set<std::string> routed;
    for (const fcgi::Route& r : handlers::route_table())
        routed.insert(lower(r.method) + " " + r.pattern);
    for (const auto& r : routed) EXPECT_TRUE(documented.count(r)) << r << " is not documented";
    for (const auto& d : documented) EXPECT_TRUE(routed.count(d)) << d << " has no route";
}

TEST(Routes, OperationIdsAreRouteNames) {
    core::JsonPtr doc(cJSON_Parse(std::string(handlers::kOpenApiJson).c_str()));
    const cJSON* paths = cJSON_GetObjectItemCaseSensitive(doc.get(), "paths");
    for (const fcgi::Route& r : handlers::route_table()) {
        const cJSON* p = cJSON_GetObjectItemCaseSensitive(paths, r.pattern);
        const cJSON* op = cJSON_GetObjectItemCaseSensitive(p, lower(r.method).c_str());
        const cJSON* id = cJSON_GetObjectItemCaseSensitive(op, "operationId");
        ASSERT_TRUE(cJSON_IsString(id)) << r.pattern;
        EXPECT_STREQ(id->valuestring, r.name);
    }
}

TEST(Routes, NamesAreUnique) {
    std::set<std::string> names;
    for (const fcgi::Route& r : handlers::route_table())
        EXPECT_TRUE(names.insert(r.name).second) << r.name;
}

}  // namespace
