// A session, its job and its event in one transaction (db/session_jobs.h), against a real
// PostgreSQL: what each start writes, the one pending job per session, the quota refusing with
// nothing written, the events as clients read them from the table (jsonb's text, the bytes
// /ws/events sends), an audience of several users, and the schema's kind CHECK against the
// one list of kinds.
#include "db/session_jobs.h"

#include <gtest/gtest.h>

#include <regex>

#include "core/passwords.h"
#include "core/temp_file.h"
#include "db/events.h"
#include "db/jobs.h"
#include "db/session_rules.h"
#include "db/users.h"
#include "tests/db/test_db.h"

namespace {

class SessionJobs : public testdb::DbTest {
  protected:
    static void SetUpTestSuite() {
        DbTest::SetUpTestSuite();
        core::init_crypto();
    }

    void SetUp() override {
        DbTest::SetUp();  // users CASCADE: sessions, words, analyses, jobs
        db().exec_script("TRUNCATE events");
        user_ = db::insert_user(db(), "sj@x.io", "S", "h", "").id;
    }

    db::NewSession new_session(std::optional<double> duration_s = 3.0) {
        db::NewSession s;
        s.id = core::new_uuid();
        s.user_id = user_;
        s.kind = "memo";
        s.title = "t";
        s.audio_path = s.id + ".wav";
        s.audio_format = "wav";
        s.audio_mime = "audio/wav";
        s.audio_bytes = 44;
        s.duration_s = duration_s;
        s.language = "en-us";
        return s;
    }

    // The first column of each row of a query ("" for NULL).
    std::vector<std::string> rows(const std::string& sql) {
        db::Result r = db().exec_script(sql);
        std::vector<std::string> out;
        for (const auto& v : r.single_column()) out.push_back(v.value_or(""));
        return out;
    }
    std::vector<std::string> events() {
        return rows("SELECT concat_ws('|', user_id, event, data::text) FROM events ORDER BY seq");
    }
    std::vector<std::string> jobs(const std::string& sid) {
        return rows("SELECT concat_ws('|', kind, lane, status) FROM jobs WHERE session_id = '" +
                    sid + "' ORDER BY id");
    }
    std::string state(const std::string& sid) {
        return rows("SELECT concat_ws('|', status, progress) FROM sessions WHERE id = '" + sid +
                    "'")
            .at(0);
    }
    // A pending job of the user's (on a session of its own), for the quota.
    void pending_job() {
        db::Session s = db::insert_session(db(), new_session());
        db::enqueue_job(db(), "transcribe", s.id, user_, "short");
    }

    std::string user_;
};

TEST_F(SessionJobs, AnUploadIsQueuedWithATranscribeJobAndAnnounced) {
    db::NewSession ns = new_session(3.0);
    db::Session s = db::create_session(db(), ns, db::SessionStart::transcribe, 50);
    EXPECT_EQ(s.id, ns.id);
    EXPECT_EQ((std::pair{s.status, s.progress}), (std::pair{std::string("queued"), 0.0}));
    EXPECT_EQ(state(s.id), "queued|0");
    EXPECT_EQ(jobs(s.id), std::vector<std::string>{"transcribe|short|queued"});
    EXPECT_EQ(events(), std::vector<std::string>{user_ + "|session.created|{\"id\": \"" + s.id +
                                                 "\", \"status\": \"queued\", \"progress\": "
                                                 "0.000}"});
    // Unknown or long durations go to the long lane.
    db::Session unknown =
        db::create_session(db(), new_session(std::nullopt), db::SessionStart::transcribe, 50);
    db::Session longer =
        db::create_session(db(), new_session(61.0), db::SessionStart::transcribe, 50);
    EXPECT_EQ(jobs(unknown.id), std::vector<std::string>{"transcribe|long|queued"});
    EXPECT_EQ(jobs(longer.id), std::vector<std::string>{"transcribe|long|queued"});
}

TEST_F(SessionJobs, ASavedStreamWritesItsRowsAndIsProcessingAtHalf) {
    db::NewSession ns = new_session(4.0);
    bool wrote = false;
    db::Session s = db::create_session(db(), ns, db::SessionStart::analyse, std::nullopt,
                                       [&](const db::Session& row) {
                                           EXPECT_TRUE(db().in_transaction());
                                           db::store_transcript(db(), row.id, "hi", "e", 4.0);
                                           wrote = true;
                                       });
    EXPECT_TRUE(wrote);
    EXPECT_EQ(state(s.id), "processing|0.5");
    EXPECT_EQ((std::pair{s.status, s.progress}), (std::pair{std::string("processing"), 0.5}));
    EXPECT_EQ(jobs(s.id), std::vector<std::string>{"analyze|short|queued"});
    EXPECT_EQ(events(), std::vector<std::string>{user_ + "|session.created|{\"id\": \"" + s.id +
                                                 "\", \"status\": \"processing\", \"progress\": "
                                                 "0.5}"});
}

TEST_F(SessionJobs, OverTheQuotaNothingIsWritten) {
    pending_job();
    pending_job();
    db().exec_script("TRUNCATE events");
    const auto before = rows("SELECT count(*) FROM sessions");
    try {
        db::create_session(db(), new_session(), db::SessionStart::transcribe, 2);
        FAIL() << "not refused";
    } catch (const db::OverJobQuota& e) {
        EXPECT_EQ(e.pending, 2);
    }
    EXPECT_FALSE(db().in_transaction());
    EXPECT_EQ(rows("SELECT count(*) FROM sessions"), before);
    EXPECT_EQ(rows("SELECT count(*) FROM jobs"), std::vector<std::string>{"2"});
    EXPECT_TRUE(events().empty());
    // A stream is stored whatever the queue; with one free place an upload goes in.
    db::create_session(db(), new_session(), db::SessionStart::analyse, std::nullopt);
    EXPECT_EQ(rows("SELECT count(*) FROM jobs"), std::vector<std::string>{"3"});
    EXPECT_NO_THROW(db::create_session(db(), new_session(), db::SessionStart::transcribe, 4));
}

TEST_F(SessionJobs, AReanalysisQueuesOneJobAndAnnouncesIt) {
    db::Session s = db::insert_session(db(), new_session(90.0));
    db::mark_session_done(db(), s.id);
    s = *db::find_session_for_job(db(), s.id);
    ASSERT_TRUE(db::start_analysis(db(), s, 50));
    EXPECT_EQ((std::pair{s.status, s.progress}), (std::pair{std::string("processing"), 0.5}));
    EXPECT_EQ(state(s.id), "processing|0.5");
    EXPECT_EQ(jobs(s.id), std::vector<std::string>{"analyze|long|queued"});
    const auto announced =
        std::vector<std::string>{user_ + "|session.progress|{\"id\": \"" + s.id +
                                 "\", \"status\": \"processing\", \"progress\": 0.5}"};
    EXPECT_EQ(events(), announced);
    // Its job pending: nothing more, whatever the quota (0 here), and no event.
    db::Session again = *db::find_session_for_job(db(), s.id);
    EXPECT_FALSE(db::start_analysis(db(), again, 0));
    EXPECT_FALSE(db().in_transaction());
    EXPECT_EQ(jobs(s.id), std::vector<std::string>{"analyze|long|queued"});
    EXPECT_EQ(events(), announced);
}

TEST_F(SessionJobs, AReanalysisOverTheQuotaChangesNothing) {
    db::Session s = db::insert_session(db(), new_session());
    db::mark_session_done(db(), s.id);
    s = *db::find_session_for_job(db(), s.id);
    pending_job();
    db().exec_script("TRUNCATE events");
    EXPECT_THROW(db::start_analysis(db(), s, 1), db::OverJobQuota);
    EXPECT_EQ(state(s.id), "done|1");
    EXPECT_TRUE(jobs(s.id).empty());
    EXPECT_TRUE(events().empty());
}

// Every builder's event as the table (and so /ws/events, and ?since= replays) gives it back.
TEST_F(SessionJobs, EveryPayloadAsClientsReadIt) {
    const std::string id = "0b6f3a52-1f7e-4c8a-9d2e-4a1b2c3d4e5f";
    const auto to = db::Audience::user(user_);
    db::publish(db(), to, db::session_stage(id, 0.15, "recognize"));
    db::publish(db(), to, db::session_requeued(id));
    db::publish(db(), to, db::session_done(id));
    db::publish(db(), to, db::session_failed(id, "the audio file is missing"));
    const std::string p = user_ + "|";
    const std::string i = "{\"id\": \"" + id + "\", ";
    EXPECT_EQ(events(),
              (std::vector<std::string>{
                  p + "session.progress|" + i +
                      "\"stage\": \"recognize\", \"status\": \"processing\", "
                      "\"progress\": 0.150}",
                  p + "session.progress|" + i + "\"status\": \"queued\", \"progress\": 0}",
                  p + "session.done|" + i + "\"status\": \"done\", \"progress\": 1}",
                  p + "session.failed|" + i +
                      "\"error\": \"the audio file is missing\", \"status\": \"failed\"}",
              }));
}

TEST_F(SessionJobs, AnAudienceOfSeveralGetsOneRowEachInOrder) {
    std::string other = db::insert_user(db(), "sj2@x.io", "T", "h", "").id;
    db::publish(db(), db::Audience::users({other, user_}), db::session_done("x"));
    db::publish(db(), db::Audience::users({}), db::session_done("y"));  // nobody: nothing
    EXPECT_EQ(rows("SELECT user_id FROM events ORDER BY seq"),
              (std::vector<std::string>{other, user_}));
    EXPECT_EQ(db::user_events_since(db(), user_, 0, 10).size(), 1u);
}

// The quoted values of a CHECK constraint, in order.
std::vector<std::string> check_values(const std::string& def) {
    std::vector<std::string> out;
    static const std::regex quoted("'([^']*)'");
    for (std::sregex_iterator m(def.begin(), def.end(), quoted), end; m != end; ++m)
        out.push_back((*m)[1]);
    return out;
}

TEST_F(SessionJobs, TheSchemasStatusCheckIsTheListOfStatuses) {
    auto def = rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = 'sessions_status_check'");
    ASSERT_EQ(def.size(), 1u);
    EXPECT_EQ(check_values(def[0]), (std::vector<std::string>{std::begin(db::kSessionStatuses),
                                                              std::end(db::kSessionStatuses)}))
        << def[0];
}

TEST_F(SessionJobs, TheSchemasKindCheckIsTheListOfKinds) {
    auto def = rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = 'sessions_kind_check'");
    ASSERT_EQ(def.size(), 1u);
    std::vector<std::string> in_schema;
    static const std::regex quoted("'([^']*)'");
    for (std::sregex_iterator m(def[0].begin(), def[0].end(), quoted), end; m != end; ++m)
        in_schema.push_back((*m)[1]);
    EXPECT_EQ(in_schema, (std::vector<std::string>{std::begin(db::kSessionKinds),
                                                   std::end(db::kSessionKinds)}))
        << def[0];
    auto default_kind = rows(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
        "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
        "WHERE d.adrelid = 'sessions'::regclass AND a.attname = 'kind'");
    ASSERT_EQ(default_kind.size(), 1u);
    EXPECT_EQ(default_kind[0], "'" + std::string(db::kDefaultSessionKind) + "'::text");
}

}  // namespace
