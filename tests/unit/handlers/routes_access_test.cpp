// openapi.json says who may call each route as the route table does: `security` on exactly the
// routes that need a token (kAuth), `x-rostrum-role: admin` on exactly the admin-only ones
// (kAdmin). tests/api/test_contract.py reads both from the served document to decide which
// routes must answer 401 without a token and 403 to a member, so a wrong marker here would
// silently skip those checks.
#include <gtest/gtest.h>

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

const cJSON* operation(const cJSON* doc, const fcgi::Route& r) {
    const cJSON* paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
    const cJSON* p = cJSON_GetObjectItemCaseSensitive(paths, r.pattern);
    return cJSON_GetObjectItemCaseSensitive(p, lower(r.method).c_str());
}

TEST(RoutesAccess, SecurityIsDocumentedOnExactlyTheRoutesThatNeedAToken) {
    core::JsonPtr doc(cJSON_Parse(std::string(handlers::kOpenApiJson).c_str()));
    ASSERT_TRUE(doc) << "openapi.json does not parse";
    for (const fcgi::Route& r : handlers::route_table()) {
        const cJSON* op = operation(doc.get(), r);
        ASSERT_TRUE(op) << r.method << " " << r.pattern << " is not documented";
        const cJSON* security = cJSON_GetObjectItemCaseSensitive(op, "security");
        bool documented = cJSON_IsArray(security) && cJSON_GetArraySize(security) > 0;
        EXPECT_EQ(documented, (r.flags & fcgi::kAuth) != 0)
            << r.method << " " << r.pattern << ": `security` disagrees with the route's flags";
    }
}

TEST(RoutesAccess, AdminRoleIsDocumentedOnExactlyTheAdminRoutes) {
    core::JsonPtr doc(cJSON_Parse(std::string(handlers::kOpenApiJson).c_str()));
    ASSERT_TRUE(doc);
    for (const fcgi::Route& r : handlers::route_table()) {
        const cJSON* op = operation(doc.get(), r);
        ASSERT_TRUE(op) << r.method << " " << r.pattern << " is not documented";
        const cJSON* role = cJSON_GetObjectItemCaseSensitive(op, "x-rostrum-role");
        bool admin = (r.flags & fcgi::kAdmin) == fcgi::kAdmin;
        if (admin) {
            EXPECT_TRUE(cJSON_IsString(role) && std::string(role->valuestring) == "admin")
                << r.method << " " << r.pattern << " is admin-only: document x-rostrum-role: admin";
        } else {
            EXPECT_FALSE(role) << r.method << " " << r.pattern
                               << " is not admin-only but documents x-rostrum-role";
        }
    }
}

}  // namespace
