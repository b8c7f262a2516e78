// The generic half of a resource description, on the users and sessions tables: the JSON a
// client sees, and validation answering the same statuses, fields and messages as before.
#include "handlers/resource.h"

#include <gtest/gtest.h>

#include "core/problem.h"
#include "db/sessions.h"
#include "db/users.h"
#include "handlers/routes.h"

namespace {

using handlers::kSessions;
using handlers::kUsers;

core::JsonPtr parse(const std::string& text) {
    return core::parse_json_strict(text);
}

// The problem a body answers: "status field: message".
std::string refusal(const handlers::Resource& res, const std::string& body, unsigned bit) {
    try {
        core::JsonPtr doc = parse(body);
        handlers::read_body(res, doc.get(), bit);
    } catch (const core::ApiError& e) {
        std::string field = e.errors.empty() ? "" : e.errors.front().field;
        std::string message = e.errors.empty() ? e.detail : e.errors.front().message;
        return std::to_string(e.status) + " " + field + ": " + message;
    }
    return "accepted";
}

TEST(Resource, SessionJsonHasEveryOutputFieldWithItsValue) {
    db::Session s;
    s.id = "0b6f3c1e-8f5d-4c39-9a4e-2d6f1a7c9e01";
    s.kind = "memo";
    s.title = "Tüte";
    s.status = "queued";
    s.progress = 0.5;
    s.duration_s = 5.6844;
    s.audio_format = "flac";
    s.language = "en-us";
    s.patient_id = std::string("a5c4e1f2-0d7b-4a1e-9c3f-6b2d8e4f1a07");
    s.notes = std::string(300, 'n');
    s.created_at = s.updated_at = "2026-12-03T11:21:54Z";
    s.audio_path = "secret.flac";
    core::JsonPtr j = parse(handlers::to_json(kSessions, s));
    auto str = [&](const char* k) {
        const cJSON* v = cJSON_GetObjectItemCaseSensitive(j.get(), k);
        return cJSON_IsString(v) ? std::string(v->valuestring) : cJSON_IsNull(v) ? "null" : "?";
    };
    EXPECT_EQ(str("patient_id"), *s.patient_id);  // an optional's text, not a dangling view
    EXPECT_EQ(str("notes"), *s.notes);
    EXPECT_EQ(str("project_id"), "null");
    EXPECT_EQ(str("title"), "Tüte");
    EXPECT_FALSE(cJSON_GetObjectItemCaseSensitive(j.get(), "audio_path"));  // stored only
    EXPECT_FALSE(cJSON_GetObjectItemCaseSensitive(j.get(), "user_id"));
    // Numbers keep today's three decimals.
    EXPECT_NE(handlers::to_json(kSessions, s).find("\"progress\":0.500,"), std::string::npos);
    EXPECT_NE(handlers::to_json(kSessions, s).find("\"duration_s\":5.684,"), std::string::npos);
}

TEST(Resource, UserJsonIsTheSevenPublicFields) {
    db::User u{"id-1", "a@x.io", "A", "member", true, 7, "hash", "t1", "t2", "123"};
    EXPECT_EQ(handlers::to_json(kUsers, u),
              R"({"id":"id-1","email":"a@x.io","name":"A","role":"member","is_active":true,)"
              R"("created_at":"t1","updated_at":"t2"})");
}

TEST(Resource, BodiesAnswerTodaysMessages) {
    using handlers::kCreate;
    using handlers::kPatch;
    EXPECT_EQ(refusal(kUsers, R"({"role":"root"})", kPatch), "422 role: must be admin or member");
    EXPECT_EQ(refusal(kUsers, R"({"name":""})", kPatch), "422 name: must not be empty");
    EXPECT_EQ(refusal(kUsers, R"({"is_active":"yes"})", kPatch),
              "400 is_active: must be true or false");
    EXPECT_EQ(refusal(kUsers, R"({"password":"x"})", kPatch), "400 password: unknown field");
    EXPECT_EQ(refusal(kUsers, R"({"name":"A","password":"p"})", kCreate), "422 email: is required");
    EXPECT_EQ(refusal(kUsers, R"({"email":"A@X.IO","password":"p","name":"A","role":"admin"})",
                      handlers::kBodyA),  // registration: no role
              "400 role: unknown field");
    EXPECT_EQ(refusal(kSessions, R"({"title":")" + std::string(201, 't') + R"("})", kPatch),
              "422 title: must be at most 200 characters");
    EXPECT_EQ(
        refusal(kSessions, R"({"patient_id":"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"})", kPatch),
        "422 patient_id: must be a UUID");
    EXPECT_EQ(refusal(kSessions, R"({"status":"done"})", kPatch), "400 status: unknown field");

    // On create an absent (or null) field takes its default; a patch leaves it absent.
    core::JsonPtr create = parse(R"({"email":"a@x.io","password":"p","name":"A","role":null})");
    EXPECT_EQ(handlers::read_body(kUsers, create.get(), kCreate).str("role"), "member");
    core::JsonPtr patch = parse(R"({"name":"B"})");
    EXPECT_FALSE(handlers::read_body(kUsers, patch.get(), kPatch).str("role"));

    core::JsonPtr doc = parse(R"({"patient_id":null,"notes":"n"})");
    handlers::Input in = handlers::read_body(kSessions, doc.get(), kPatch);
    EXPECT_TRUE(in.is_null("patient_id"));
    EXPECT_EQ(in.str("notes"), "n");
    EXPECT_FALSE(in.str("title"));
    EXPECT_THROW(in.str("no_such_field"), std::logic_error);
}

TEST(Resource, UploadFormTakesDefaultsAndLimitsInCharacters) {
    handlers::Input in =
        handlers::read_form(kSessions, {{"title", std::string(200, 'e') + ""}}, handlers::kCreate);
    EXPECT_EQ(in.str("kind"), "practice");
    EXPECT_EQ(in.str("language"), "en-us");
    std::string title;
    for (int i = 0; i < 200; ++i) title += "é";  // 400 bytes, 200 characters: accepted
    EXPECT_NO_THROW(handlers::read_form(kSessions, {{"title", title}}, handlers::kCreate));
    try {
        handlers::read_form(kSessions, {{"kind", "PRACTICE"}}, handlers::kCreate);
        FAIL() << "an unknown kind was accepted";
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.status, 422);
        EXPECT_EQ(e.errors.at(0).message, "must be practice, scribe, interview or memo");
    }
}

}  // namespace

namespace {

// A resource of the coming kind (a task: a required project, a flag, a count, a note null
// clears), to pin what users and sessions do not use yet.
struct Task {
    std::string id;
};
using Rec = Task;
using handlers::Field;
using handlers::Type;
constexpr Field kTaskFields[] = {
    {.name = "id", .type = Type::uuid, .use = handlers::kOut, .get = FIELD_GET(id)},
    {.name = "project_id",
     .type = Type::uuid,
     .use = handlers::kCreate,
     .required = handlers::kCreate},
    {.name = "done",
     .type = Type::boolean,
     .use = handlers::kCreate,
     .required = handlers::kCreate},
    {.name = "points",
     .type = Type::integer,
     .use = handlers::kCreate,
     .min = 0,
     .max = 100,
     .required = handlers::kCreate},
    {.name = "note",
     .type = Type::text,
     .use = handlers::kCreate | handlers::kPatch | handlers::kNullable,
     .max = 10},
};
constexpr handlers::Resource kTasks{.schema = "Task", .fields = kTaskFields};

}  // namespace

TEST(Resource, RequiredHoldsForEveryTypeAndNullClearsANullableText) {
    const std::string pid = "0b6f3c1e-8f5d-4c39-9a4e-2d6f1a7c9e01";
    EXPECT_EQ(refusal(kTasks, R"({"done":true,"points":1})", handlers::kCreate),
              "422 project_id: is required");
    EXPECT_EQ(refusal(kTasks, R"({"project_id":")" + pid + R"(","points":1})", handlers::kCreate),
              "422 done: is required");
    EXPECT_EQ(refusal(kTasks, R"({"project_id":")" + pid + R"(","done":false})", handlers::kCreate),
              "422 points: is required");
    EXPECT_EQ(refusal(kTasks, R"({"project_id":")" + pid + R"(","done":false,"points":3})",
                      handlers::kCreate),
              "accepted");
    core::JsonPtr cleared = parse(R"({"note":null})");
    handlers::Input in = handlers::read_body(kTasks, cleared.get(), handlers::kPatch);
    EXPECT_TRUE(in.is_null("note"));
    EXPECT_FALSE(in.str("note"));
    core::JsonPtr absent = parse(R"({})");
    EXPECT_FALSE(handlers::read_body(kTasks, absent.get(), handlers::kPatch).is_null("note"));
}

namespace {

// A list of ids, a list of labels and counted columns: the array and object body types.
constexpr const char* kCols[] = {"todo", "done"};
struct Board {
    std::string id;
};
using BoardRec = Board;
constexpr handlers::Field kBoardFields[] = {
    {.name = "member_ids",
     .type = Type::array,
     .use = handlers::kCreate,
     .items = Type::uuid,
     .max_items = 3},
    {.name = "labels",
     .type = Type::array,
     .use = handlers::kCreate,
     .min = 1,
     .max = 5,
     .required = handlers::kCreate},
    {.name = "limits",
     .type = Type::object,
     .use = handlers::kCreate,
     .min = 1,
     .max = 9,
     .values = kCols},
};
constexpr handlers::Resource kBoards{.schema = "Board", .fields = kBoardFields};

std::string board(const std::string& body) {
    return refusal(kBoards, body, handlers::kCreate);
}

}  // namespace

TEST(Resource, ArrayAndCountedObjectBodiesNameTheItem) {
    const std::string a = "0B6F3C1E-8F5D-4C39-9A4E-2D6F1A7C9E01";
    EXPECT_EQ(board(R"({})"), "422 labels: is required");
    EXPECT_EQ(board(R"({"labels":"x"})"), "400 labels: must be an array of strings");
    EXPECT_EQ(board(R"({"labels":["ok",""]})"), "422 labels[1]: must not be empty");
    EXPECT_EQ(board(R"({"labels":["ok","toolong"]})"),
              "422 labels[1]: must be at most 5 characters");
    EXPECT_EQ(board(R"({"labels":["ok",3]})"), "400 labels[1]: must be a string");
    EXPECT_EQ(board(R"({"labels":[],"member_ids":["x"]})"), "422 member_ids[0]: must be a UUID");
    EXPECT_EQ(board(R"({"labels":[],"member_ids":[")" + a + R"(",")" + a + R"(",")" + a + R"(",")" +
                    a + R"("]})"),
              "422 member_ids: must have at most 3 items");
    EXPECT_EQ(board(R"({"labels":[],"limits":{"doing":1}})"),
              "422 limits.doing: must be todo or done");
    EXPECT_EQ(board(R"({"labels":[],"limits":{"todo":0}})"),
              "422 limits.todo: must be between 1 and 9");
    EXPECT_EQ(board(R"({"labels":[],"limits":{"todo":1.5}})"),
              "400 limits.todo: must be an integer");
    EXPECT_EQ(board(R"({"labels":[],"limits":[]})"), "400 limits: must be an object");
    core::JsonPtr ok =
        parse(R"({"labels":["a","b"],"member_ids":[")" + a + R"("],"limits":{"done":2,"todo":9}})");
    handlers::Input in = handlers::read_body(kBoards, ok.get(), handlers::kCreate);
    EXPECT_EQ(*in.list("labels"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(*in.list("member_ids"),
              (std::vector<std::string>{"0b6f3c1e-8f5d-4c39-9a4e-2d6f1a7c9e01"}));  // lower-cased
    EXPECT_EQ(*in.str("limits"), R"({"done":2,"todo":9})");
    core::JsonPtr nulls = parse(R"({"labels":[],"member_ids":null,"limits":null})");
    handlers::Input n = handlers::read_body(kBoards, nulls.get(), handlers::kCreate);
    EXPECT_FALSE(n.list("member_ids"));
    EXPECT_FALSE(n.str("limits"));
    EXPECT_TRUE(n.list("labels")->empty());
}
