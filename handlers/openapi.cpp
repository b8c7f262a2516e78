// The OpenAPI 3.1 document: the prose of handlers/openapi.json (summaries, security, a route's
// own error responses, each written as its description string) with, generated from the route
// table and the resource descriptions, every resource's component schemas, every route's query
// parameters and the refusals every route of its kind has (kStandard). Generated once per
// process, on first request.
#include "handlers/openapi.h"

#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {

extern const std::string_view kOpenApiJson;

namespace {

core::JsonPtr parse(const std::string& json, const char* what) {
    core::JsonPtr v(cJSON_Parse(json.c_str()));
    if (!v) throw std::logic_error(std::string("openapi: generated JSON does not parse: ") + what);
    return v;
}

void put(cJSON* object, const std::string& key, core::JsonPtr value) {
    if (cJSON_GetObjectItemCaseSensitive(object, key.c_str()))
        cJSON_DeleteItemFromObjectCaseSensitive(object, key.c_str());
    cJSON_AddItemToObject(object, key.c_str(), value.release());
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void put_schemas(cJSON* schemas, const Resource& res) {
    put(schemas, res.schema, parse(output_schema(res), res.schema));
    put(schemas, std::string(res.schema) + "List", parse(list_schema(res), res.schema));
    for (const Body& b : res.bodies) put(schemas, b.schema, parse(body_schema(res, b), b.schema));
}

void put_parameters(cJSON* paths, const fcgi::Route& r) {
    cJSON* op = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(paths, r.pattern),
                                                 lower(r.method).c_str());
    if (!op) throw std::logic_error(std::string("openapi.json lacks the route ") + r.name);
    core::JsonPtr params(cJSON_CreateArray());
    std::string_view names = r.query;
    bool filter = std::string_view(r.method) == "GET";
    while (!names.empty()) {
        size_t end = names.find(' ');
        std::string_view name = names.substr(0, end);
        names = end == std::string_view::npos ? "" : names.substr(end + 1);
        auto p = query_parameter(r.resource, name, filter);
        if (!p)
            throw std::logic_error(std::string(r.name) + ": nobody declares the query parameter " +
                                   std::string(name));
        cJSON_AddItemToArray(params.get(), parse(*p, r.name).release());
    }
    put(op, "parameters", std::move(params));
}

// A problem+json response; in the prose, a response written as a plain string is one.
core::JsonPtr problem_response(const char* description) {
    core::JsonWriter w;
    w.begin_object().field("description", description).key("content").begin_object();
    w.key("application/problem+json").begin_object().key("schema").begin_object();
    w.field("$ref", "#/components/schemas/Problem").end_object().end_object().end_object();
    w.end_object();
    return parse(w.take(), "problem response");
}

// The refusals every route of a kind has, so that the prose lists only its own.
struct StandardResponse {
    const char* status;
    const char* description;
    bool (*applies)(const fcgi::Route&);
};
constexpr StandardResponse kStandard[] = {
    {"400", "Unreadable body or parameter (bad JSON, duplicate or unknown field, wrong type)",
     [](const fcgi::Route&) { return true; }},
    {"401", "Missing, malformed, expired, tampered or revoked token",
     [](const fcgi::Route& r) { return (r.flags & fcgi::kAuth) != 0; }},
    {"422", "A field's value is not acceptable, or a query parameter the route does not take",
     [](const fcgi::Route&) { return true; }},
    {"503", "PostgreSQL is unavailable",
     [](const fcgi::Route& r) { return r.resource != nullptr; }},
};

void put_responses(cJSON* paths, const fcgi::Route& r) {
    cJSON* op = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(paths, r.pattern),
                                                 lower(r.method).c_str());
    cJSON* responses = cJSON_GetObjectItemCaseSensitive(op, "responses");
    if (!responses) throw std::logic_error(std::string("openapi.json: no responses for ") + r.name);
    std::vector<std::pair<std::string, std::string>> brief;  // status, description
    for (const cJSON* c = responses->child; c; c = c->next)
        if (cJSON_IsString(c)) brief.emplace_back(c->string, c->valuestring);
    for (const auto& [status, description] : brief)
        cJSON_ReplaceItemInObjectCaseSensitive(responses, status.c_str(),
                                               problem_response(description.c_str()).release());
    for (const StandardResponse& s : kStandard)
        if (s.applies(r) && !cJSON_GetObjectItemCaseSensitive(responses, s.status))
            cJSON_AddItemToObject(responses, s.status, problem_response(s.description).release());
}

}  // namespace

std::string openapi_document(std::span<const fcgi::Route> routes) {
    core::JsonPtr doc = parse(std::string(kOpenApiJson), "handlers/openapi.json");
    cJSON* schemas = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc.get(), "components"), "schemas");
    cJSON* paths = cJSON_GetObjectItemCaseSensitive(doc.get(), "paths");
    if (!schemas || !paths)
        throw std::logic_error("openapi.json lacks components.schemas or paths");
    for (const fcgi::Route& r : routes) {
        if (r.resource) put_schemas(schemas, *r.resource);
        if (*r.query) put_parameters(paths, r);
        put_responses(paths, r);
    }
    core::JsonTextPtr text(cJSON_PrintUnformatted(doc.get()));
    return text.get();
}

Response openapi_get(Request&, Ctx&) {
    static const std::string doc = openapi_document(route_table());
    return Response::json(200, doc);
}

}  // namespace handlers
