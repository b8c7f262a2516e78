// The route table and the served OpenAPI document describe the same API: a route missing from
// either fails, and so does a resource field or a query parameter the document lacks.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/json.h"
#include "handlers/openapi.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
extern const std::string_view kOpenApiJson;
}

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The document as served: the prose plus what the descriptions generate.
core::JsonPtr served() {
    return core::JsonPtr(cJSON_Parse(handlers::openapi_document(handlers::route_table()).c_str()));
}

const cJSON* item(const cJSON* o, const std::string& key) {
    return cJSON_GetObjectItemCaseSensitive(o, key.c_str());
}

TEST(Routes, TableAndOpenApiAgree) {
    core::JsonPtr doc = served();
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
    core::JsonPtr doc = served();
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

// Every parameter a route takes is documented on its operation, and nothing else is.
TEST(Routes, QueryParametersAreDocumented) {
    core::JsonPtr doc = served();
    const cJSON* paths = item(doc.get(), "paths");
    for (const fcgi::Route& r : handlers::route_table()) {
        std::set<std::string> taken, documented;
        std::string names = r.query;
        for (size_t pos = 0; pos < names.size();) {
            size_t end = names.find(' ', pos);
            if (end == std::string::npos) end = names.size();
            taken.insert(names.substr(pos, end - pos));
            pos = end + 1;
        }
        const cJSON* op = item(item(paths, r.pattern), lower(r.method));
        ASSERT_TRUE(op) << r.name;
        const cJSON* params = item(op, "parameters");
        for (const cJSON* p = params ? params->child : nullptr; p; p = p->next)
            if (std::string(item(p, "in")->valuestring) == "query")
                documented.insert(item(p, "name")->valuestring);
        EXPECT_EQ(taken, documented) << r.name;
        // A path-level parameter list documents no query parameter behind the table's back.
        const cJSON* shared = item(item(paths, r.pattern), "parameters");
        for (const cJSON* p = shared ? shared->child : nullptr; p; p = p->next)
            EXPECT_STRNE(item(p, "in")->valuestring, "query") << r.pattern;
    }
}

// Every {name} of a route's pattern is declared as a path parameter (on the path or on the
// operation): OpenAPI 3.1 requires it, and Swagger UI offers no field for one that is not.
TEST(Routes, PathParametersAreDeclared) {
    core::JsonPtr doc = served();
    const cJSON* paths = item(doc.get(), "paths");
    for (const fcgi::Route& r : handlers::route_table()) {
        const std::string pattern = r.pattern;
        const cJSON* path = item(paths, r.pattern);
        if (!path) continue;  // an internal route (checked elsewhere)
        std::set<std::string> declared;
        for (const cJSON* list :
             {item(path, "parameters"), item(item(path, lower(r.method)), "parameters")})
            for (const cJSON* p = list ? list->child : nullptr; p; p = p->next)
                if (cJSON_IsString(item(p, "in")) &&
                    std::string(item(p, "in")->valuestring) == "path")
                    declared.insert(item(p, "name")->valuestring);
        for (size_t open = pattern.find('{'); open != std::string::npos;
             open = pattern.find('{', open + 1)) {
            const std::string name = pattern.substr(open + 1, pattern.find('}', open) - open - 1);
            EXPECT_TRUE(declared.count(name)) << r.method << " " << pattern << ": {" << name << "}";
        }
    }
}

// Every output field of a routed resource is a property of its schema, with its type; every
// body field is a property of that body's schema; the list schema names the resource.
TEST(Routes, ResourceSchemasAreDocumented) {
    core::JsonPtr doc = served();
    const cJSON* schemas = item(item(doc.get(), "components"), "schemas");
    std::set<const handlers::Resource*> seen;
    for (const fcgi::Route& r : handlers::route_table()) {
        if (!r.resource || !seen.insert(r.resource).second) continue;
        const handlers::Resource& res = *r.resource;
        const cJSON* props = item(item(schemas, res.schema), "properties");
        ASSERT_TRUE(props) << res.schema;
        for (const handlers::Field& f : res.fields) {
            bool out = f.use & handlers::kOut;
            EXPECT_EQ(item(props, f.name) != nullptr, out) << res.schema << "." << f.name;
        }
        const cJSON* list = item(schemas, std::string(res.schema) + "List");
        EXPECT_STREQ(
            item(item(item(item(list, "properties"), "items"), "items"), "$ref")->valuestring,
            ("#/components/schemas/" + std::string(res.schema)).c_str());
        for (const handlers::Body& b : res.bodies) {
            const cJSON* body = item(item(schemas, b.schema), "properties");
            ASSERT_TRUE(body) << b.schema;
            for (const handlers::Field& f : res.fields)
                EXPECT_EQ(item(body, f.name) != nullptr, (f.use & b.bit) != 0)
                    << b.schema << "." << f.name;
        }
    }
    EXPECT_GE(seen.size(), 10u) << "every product's resources";
}

// Every $ref in the document points at a schema it has (a removed hand-written schema that a
// path still names fails here).
TEST(Routes, EveryRefResolves) {
    core::JsonPtr doc = served();
    const cJSON* schemas = item(item(doc.get(), "components"), "schemas");
    std::vector<const cJSON*> todo{doc.get()};
    int refs = 0;
    while (!todo.empty()) {
        const cJSON* n = todo.back();
        todo.pop_back();
        for (const cJSON* c = n->child; c; c = c->next) {
            if (c->string && std::string(c->string) == "$ref" && cJSON_IsString(c)) {
                std::string ref = c->valuestring;
                const std::string prefix = "#/components/schemas/";
                ASSERT_EQ(ref.rfind(prefix, 0), 0u) << ref;
                EXPECT_TRUE(item(schemas, ref.substr(prefix.size()))) << ref;
                ++refs;
            }
            todo.push_back(c);
        }
    }
    EXPECT_GT(refs, 10);
}

// The prose writes a route's own refusals as strings; the served document expands them, and
// adds the ones every route of its kind has (401 on every authenticated route, 422 on all).
TEST(Routes, ResponsesAreCompleteAndStandardOnesPresent) {
    core::JsonPtr doc = served();
    const cJSON* paths = item(doc.get(), "paths");
    for (const fcgi::Route& r : handlers::route_table()) {
        const cJSON* responses = item(item(item(paths, r.pattern), lower(r.method)), "responses");
        ASSERT_TRUE(responses) << r.name;
        for (const cJSON* c = responses->child; c; c = c->next) {
            ASSERT_TRUE(cJSON_IsObject(c)) << r.name << " " << c->string;
            EXPECT_TRUE(cJSON_IsString(item(c, "description"))) << r.name << " " << c->string;
        }
        EXPECT_TRUE(item(responses, "422")) << r.name;
        EXPECT_TRUE(!(r.flags & fcgi::kAuth) || item(responses, "401")) << r.name;
        EXPECT_TRUE(!r.resource || item(responses, "503")) << r.name;
    }
}

}  // namespace
