// Every session event's payload, byte for byte, as db/events builds it: these are the bytes the
// web app and vosk clients have read since before the builders existed (the API's upload, the
// live daemon's saved stream, the worker's stages, release, lane move, completion and failure,
// and the reaper's SQL). jsonb then stores them in its own key order (tests/db pins that).
#include "db/events.h"

#include <gtest/gtest.h>

namespace {

const std::string kId = "0b6f3a52-1f7e-4c8a-9d2e-4a1b2c3d4e5f";

void expect_event(const db::Event& e, const std::string& name, const std::string& data) {
    EXPECT_EQ(e.name, name);
    EXPECT_EQ(e.data_json, data);
}

TEST(SessionEvents, CreatedByAnUploadIsQueuedAtZero) {
    expect_event(db::session_created_queued(kId), "session.created",
                 R"({"id":")" + kId + R"(","status":"queued","progress":0.000})");
}

TEST(SessionEvents, CreatedByALiveStreamIsProcessingAtHalf) {
    expect_event(db::session_created_analysing(kId), "session.created",
                 R"({"id":")" + kId + R"(","status":"processing","progress":0.5})");
}

TEST(SessionEvents, AReanalysisIsProcessingAtHalf) {
    expect_event(db::session_analysing(kId), "session.progress",
                 R"({"id":")" + kId + R"(","status":"processing","progress":0.5})");
}

TEST(SessionEvents, AStageCarriesItsFractionToThreeDecimals) {
    expect_event(
        db::session_stage(kId, 0.05, "decode"), "session.progress",
        R"({"id":")" + kId + R"(","status":"processing","progress":0.050,"stage":"decode"})");
    expect_event(
        db::session_stage(kId, 0.15 + 0.7 * 0.5, "recognize"), "session.progress",
        R"({"id":")" + kId + R"(","status":"processing","progress":0.500,"stage":"recognize"})");
}

TEST(SessionEvents, RequeuedIsQueuedAtZero) {
    expect_event(db::session_requeued(kId), "session.progress",
                 R"({"id":")" + kId + R"(","status":"queued","progress":0})");
}

TEST(SessionEvents, DoneIsAtOne) {
    expect_event(db::session_done(kId), "session.done",
                 R"({"id":")" + kId + R"(","status":"done","progress":1})");
}

TEST(SessionEvents, FailedCarriesTheOwnersSentenceEscaped) {
    expect_event(
        db::session_failed(kId, "the \"audio\" file is missing"), "session.failed",
        R"({"id":")" + kId + R"(","status":"failed","error":"the \"audio\" file is missing"})");
}

TEST(TrackerEvents, ProjectEventNamesTheProjectAndActor) {
    expect_event(db::project_event("project.updated", "p1", "u1"), "project.updated",
                 R"({"project_id":"p1","actor_id":"u1"})");
}

TEST(TrackerEvents, PersonalTaskEventHasANullProjectAndTheSystemANullActor) {
    expect_event(db::task_event("task.updated", "t1", std::nullopt, std::nullopt), "task.updated",
                 R"({"task_id":"t1","project_id":null,"actor_id":null})");
}

TEST(TrackerEvents, MovedCarriesBothColumnsAndThePosition) {
    expect_event(
        db::task_moved("t1", "p1", "todo", "review", 3, "u1"), "task.moved",
        R"({"task_id":"t1","project_id":"p1","old_status":"todo","new_status":"review","position":3,"actor_id":"u1"})");
}

TEST(ArrayLiteral, QuotesEveryItemAndEscapesQuotesAndBackslashes) {
    EXPECT_EQ(db::array_literal({}), "{}");
    EXPECT_EQ(db::array_literal({"a", "b \"c\" \\", ",{}"}), R"({"a","b \"c\" \\",",{}"})");
}

TEST(Audience, AUserIsOneRecipientAndUsersKeepTheirOrder) {
    EXPECT_EQ(db::Audience::user("a").user_ids, std::vector<std::string>{"a"});
    EXPECT_EQ(db::Audience::users({"b", "a"}).user_ids, (std::vector<std::string>{"b", "a"}));
}

TEST(NoteEvents, UpdatedNamesTheSessionStatusVersionAndAction) {
    expect_event(
        db::note_updated(kId, "approved", 2, "approved"), "note.updated",
        R"({"session_id":")" + kId + R"(","status":"approved","version":2,"action":"approved"})");
}

}  // namespace
