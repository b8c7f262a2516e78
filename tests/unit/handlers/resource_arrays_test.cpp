// The resource layer's string arrays, dates and filter tokens, on the task table (labels,
// prompts, ids, due_date, assignee_id=me): bounds on the count and on each element (named
// "labels[i]"), calendar dates, JSON output, and the OpenAPI schemas they document.
#include <gtest/gtest.h>

#include "core/problem.h"
#include "db/tasks.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace {

using handlers::kTasks;

core::JsonPtr parse(const std::string& text) {
    return core::parse_json_strict(text);
}

std::string refusal(const std::string& body, unsigned bit) {
    try {
        core::JsonPtr doc = parse(body);
        handlers::read_body(kTasks, doc.get(), bit);
    } catch (const core::ApiError& e) {
        std::string field = e.errors.empty() ? "" : e.errors.front().field;
        std::string message = e.errors.empty() ? e.detail : e.errors.front().message;
        return std::to_string(e.status) + " " + field + ": " + message;
    }
    return "accepted";
}

std::string labels_json(int n, int chars) {
    std::string out = "[";
    for (int i = 0; i < n; ++i)
        out += std::string(i ? "," : "") + "\"" + std::string(chars, 'l') + "\"";
    return out + "]";
}

TEST(ResourceArrays, CreateTakesDefaultsAndTheArraysAsGiven) {
    core::JsonPtr doc = parse(R"({"title":"T","labels":["a","b é"],"due_date":"2028-02-29"})");
    handlers::Input in = handlers::read_body(kTasks, doc.get(), handlers::kCreate);
    EXPECT_EQ(in.list("labels"), (std::vector<std::string>{"a", "b é"}));
    EXPECT_EQ(in.list("prompts"), std::vector<std::string>{});  // the default: []
    EXPECT_EQ(in.str("status"), "todo");
    EXPECT_EQ(in.str("due_date"), "2028-02-29");
    core::JsonPtr patch = parse(R"({"title":"T"})");
    EXPECT_FALSE(handlers::read_body(kTasks, patch.get(), handlers::kPatch).list("labels"));
}

TEST(ResourceArrays, CountsElementsAndTypesAreBounded) {
    using handlers::kCreate;
    EXPECT_EQ(refusal(R"({"title":"T","labels":)" + labels_json(20, 50) + "}", kCreate),
              "accepted");
    EXPECT_EQ(refusal(R"({"title":"T","labels":)" + labels_json(21, 1) + "}", kCreate),
              "422 labels: must have at most 20 items");
    EXPECT_EQ(
        refusal(R"({"title":"T","labels":["ok",")" + std::string(51, 'x') + R"("]})", kCreate),
        "422 labels[1]: must be at most 50 characters");
    EXPECT_EQ(refusal(R"({"title":"T","labels":["ok",""]})", kCreate),
              "422 labels[1]: must not be empty");
    EXPECT_EQ(refusal(R"({"title":"T","labels":"a"})", kCreate),
              "400 labels: must be an array of strings");
    EXPECT_EQ(refusal(R"({"title":"T","labels":[1]})", kCreate), "400 labels[0]: must be a string");
    EXPECT_EQ(refusal(R"({"title":"T","prompts":)" + labels_json(101, 1) + "}", kCreate),
              "422 prompts: must have at most 100 items");
    EXPECT_EQ(refusal(R"({"title":"T","prompts":[")" + std::string(1001, 'p') + R"("]})", kCreate),
              "422 prompts[0]: must be at most 1000 characters");
}

TEST(ResourceArrays, UuidArraysAreNormalisedAndCounted) {
    const unsigned ids = handlers::kBodyE;  // POST /tasks/batch-delete
    const std::string a = "0B6F3C1E-8F5D-4C39-9A4E-2D6F1A7C9E01";
    core::JsonPtr doc = parse(R"({"ids":[")" + a + R"("]})");
    EXPECT_EQ(handlers::read_body(kTasks, doc.get(), ids).list("ids"),
              std::vector<std::string>{"0b6f3c1e-8f5d-4c39-9a4e-2d6f1a7c9e01"});
    EXPECT_EQ(refusal(R"({"ids":[]})", ids), "422 ids: must have at least 1 items");
    EXPECT_EQ(refusal(R"({})", ids), "422 ids: is required");
    EXPECT_EQ(refusal(R"({"ids":[")" + a + R"(","1' OR '1'='1"]})", ids),
              "422 ids[1]: must be a UUID");
    std::string many = "[";
    for (int i = 0; i < 501; ++i) many += std::string(i ? "," : "") + "\"" + a + "\"";
    EXPECT_EQ(refusal(R"({"ids":)" + many + "]}", ids), "422 ids: must have at most 500 items");
}

TEST(ResourceArrays, DatesMustExist) {
    using handlers::kPatch;
    EXPECT_EQ(refusal(R"({"due_date":"2026-02-30"})", kPatch),
              "422 due_date: must be a date (YYYY-MM-DD) that exists");
    EXPECT_EQ(refusal(R"({"due_date":"2026-02-29"})", kPatch),
              "422 due_date: must be a date (YYYY-MM-DD) that exists");
    EXPECT_EQ(refusal(R"({"due_date":"2026-13-01"})", kPatch),
              "422 due_date: must be a date (YYYY-MM-DD) that exists");
    EXPECT_EQ(refusal(R"({"due_date":"2026-12-03T10:00:00Z"})", kPatch),
              "422 due_date: must be a date (YYYY-MM-DD) that exists");
    EXPECT_EQ(refusal(R"({"due_date":"2024-02-29"})", kPatch), "accepted");
    EXPECT_EQ(refusal(R"({"due_date":7})", kPatch), "400 due_date: must be a string");
    core::JsonPtr cleared = parse(R"({"due_date":null})");
    EXPECT_TRUE(handlers::read_body(kTasks, cleared.get(), kPatch).is_null("due_date"));
    EXPECT_TRUE(handlers::is_calendar_date("2000-02-29"));
    EXPECT_FALSE(handlers::is_calendar_date("1900-02-29"));
    EXPECT_FALSE(handlers::is_calendar_date("0000-01-01"));
}

TEST(ResourceArrays, TaskJsonWritesArraysAndNulls) {
    db::Task t;
    t.id = "i";
    t.title = "T";
    t.status = "todo";
    t.priority = "low";
    t.position = 3;
    t.labels = {"a\"b", "c"};
    t.due_date = std::string("2026-12-24");
    t.created_at = t.updated_at = "now";
    core::JsonPtr j = parse(handlers::to_json(kTasks, t));
    const cJSON* labels = cJSON_GetObjectItemCaseSensitive(j.get(), "labels");
    ASSERT_TRUE(cJSON_IsArray(labels));
    EXPECT_STREQ(cJSON_GetArrayItem(labels, 0)->valuestring, "a\"b");
    EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j.get(), "prompts")), 0);
    EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j.get(), "project_id")));
    EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(j.get(), "position")->valuedouble, 3);
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(j.get(), "due_date")->valuestring, "2026-12-24");
    EXPECT_FALSE(cJSON_GetObjectItemCaseSensitive(j.get(), "board_id"));
    EXPECT_FALSE(cJSON_GetObjectItemCaseSensitive(j.get(), "force"));
}

TEST(ResourceArrays, SchemasSayTheBounds) {
    const handlers::Body* create = nullptr;
    for (const auto& b : kTasks.bodies)
        if (b.bit == handlers::kCreate) create = &b;
    ASSERT_TRUE(create);
    core::JsonPtr s = parse(handlers::body_schema(kTasks, *create));
    const cJSON* labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s.get(), "properties"), "labels");
    EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(labels, "maxItems")->valuedouble, 20);
    EXPECT_TRUE(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(labels, "default")));
    const cJSON* items = cJSON_GetObjectItemCaseSensitive(labels, "items");
    EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(items, "maxLength")->valuedouble, 50);
    auto due = handlers::query_parameter(&kTasks, "due_before", true);
    ASSERT_TRUE(due);
    EXPECT_NE(due->find("\"format\":\"date\""), std::string::npos) << *due;
    auto me = handlers::query_parameter(&kTasks, "assignee_id", true);
    ASSERT_TRUE(me);
    EXPECT_NE(me->find("\"const\":\"me\""), std::string::npos) << *me;
}

}  // namespace
