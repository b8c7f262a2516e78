// The session rules (db/session_rules.h) are the ones the API documents: every kind enum and
// default, and every session title's maxLength in openapi.json, come from the one list and the
// one limit. The schema's CHECK is compared in tests/db/session_jobs_test.cpp.
#include "db/session_rules.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "handlers/openapi.h"
#include "handlers/routes.h"

namespace {

std::vector<std::string> kinds() {
    return {std::begin(db::kSessionKinds), std::end(db::kSessionKinds)};
}

std::vector<std::string> strings_of(const cJSON* array) {
    std::vector<std::string> out;
    for (const cJSON* v = array->child; v; v = v->next)
        out.push_back(cJSON_IsString(v) ? v->valuestring : "<not a string>");
    return out;
}

bool holds(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

struct Found {
    int kind_enums = 0;
    int title_limits = 0;
};

// Walks the document: an enum naming any session kind must be the whole list (with the default
// beside it, when there is one); a session title's maxLength must be the limit (the sessions
// routes and the Session* schemas: a task's title has its own limit, 500).
void walk(const cJSON* node, const std::string& where, Found& found) {
    if (!node) return;
    if (cJSON_IsObject(node)) {
        const cJSON* e = cJSON_GetObjectItemCaseSensitive(node, "enum");
        if (cJSON_IsArray(e)) {
            auto values = strings_of(e);
            bool any_kind = false;
            for (const auto& k : kinds()) any_kind = any_kind || holds(values, k);
            if (any_kind) {
                ++found.kind_enums;
                EXPECT_EQ(values, kinds()) << where;
                if (const cJSON* d = cJSON_GetObjectItemCaseSensitive(node, "default")) {
                    EXPECT_STREQ(cJSON_IsString(d) ? d->valuestring : "", db::kDefaultSessionKind)
                        << where;
                }
            }
        }
    }
    for (const cJSON* c = node->child; c; c = c->next) {
        const std::string key = c->string ? c->string : "[]";
        // A property named title, or a parameter named title: its schema's maxLength.
        const cJSON* schema = nullptr;
        if (key == "title" && cJSON_IsObject(c)) schema = c;
        const cJSON* name = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(name) && std::string(name->valuestring) == "title")
            schema = cJSON_GetObjectItemCaseSensitive(c, "schema");
        const bool of_a_session = where.find("/api/v1/sessions") != std::string::npos ||
                                  where.find("/components/schemas/Session") != std::string::npos;
        if (const cJSON* max = schema && of_a_session
                                   ? cJSON_GetObjectItemCaseSensitive(schema, "maxLength")
                                   : nullptr) {
            ++found.title_limits;
            EXPECT_EQ(max->valuedouble, static_cast<double>(db::kSessionTitleMaxChars))
                << where << "/" << key;
        }
        walk(c, where + "/" + key, found);
    }
}

TEST(SessionRules, OpenApiKindsAndTitleLimitAreTheRules) {
    // The document as served: hand-written prose merged with the schemas the field tables make.
    core::JsonPtr doc(cJSON_Parse(handlers::openapi_document(handlers::route_table()).c_str()));
    ASSERT_TRUE(doc);
    Found found;
    walk(doc.get(), "", found);
    EXPECT_GE(found.kind_enums, 3);    // upload query, upload form, the Session schema
    EXPECT_GE(found.title_limits, 3);  // upload query, upload form, PATCH
}

std::string refusal(void (*check)(const std::string&), const std::string& v) {
    try {
        check(v);
    } catch (const core::ApiError& e) {
        return std::to_string(e.status) + " " + e.errors.at(0).field + ": " +
               e.errors.at(0).message;
    }
    return "accepted";
}

TEST(SessionRules, KindsAndTheirRefusal) {
    for (const auto& k : kinds()) EXPECT_EQ(refusal(db::check_session_kind, k), "accepted");
    EXPECT_EQ(refusal(db::check_session_kind, "poem"),
              "422 kind: must be practice, scribe, interview or memo");
    EXPECT_EQ(refusal(db::check_session_kind, "Practice"),
              "422 kind: must be practice, scribe, interview or memo");
}

TEST(SessionRules, TitleCountsCharactersNotBytes) {
    std::string e_acute = "\xc3\xa9";  // 'é': two bytes, one character
    std::string t;
    for (size_t i = 0; i < db::kSessionTitleMaxChars; ++i) t += e_acute;
    EXPECT_EQ(refusal(db::check_session_title, t), "accepted");  // 400 bytes
    EXPECT_EQ(refusal(db::check_session_title, t + "x"),
              "422 title: must be at most 200 characters");
    EXPECT_EQ(refusal(db::check_session_title, std::string(200, 'a')), "accepted");
    EXPECT_EQ(refusal(db::check_session_title, ""), "accepted");
}

}  // namespace
