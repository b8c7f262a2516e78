// Issue 9 item 7 at the queue: one pending job per session, the per-user count behind the
// quota, and moving a short-lane job that decodes long onto the long lane (fenced like every
// other write of a claimed job).
#include <gtest/gtest.h>

#include "core/temp_file.h"
#include "db/jobs.h"
#include "db/sessions.h"
#include "db/users.h"
#include "tests/db/test_db.h"

namespace {

class JobQueue : public testdb::DbTest {
  protected:
    void SetUp() override {
        DbTest::SetUp();
        user_ = db::insert_user(db(), "queue@x.io", "Q", "h", "").id;
    }

    std::string new_session() {
        db::NewSession s;
        s.id = core::new_uuid();
        s.user_id = user_;
        s.kind = "practice";
        s.audio_path = s.id + ".wav";
        s.audio_format = "wav";
        s.audio_mime = "audio/wav";
        s.audio_bytes = 44;
        s.language = "en-us";
        return db::insert_session(db(), s).id;
    }

    std::string value(const std::string& sql) {
        db::Result r = db().exec_script(sql);
        return r.rows() == 1 ? r.single_column()[0].value_or("") : "";
    }

    std::string user_;
};

TEST_F(JobQueue, OnePendingJobPerSession) {
    std::string sid = new_session();
    EXPECT_TRUE(db::enqueue_job(db(), "transcribe", sid, user_, "short"));
    EXPECT_FALSE(db::enqueue_job(db(), "analyze", sid, user_, "short"));
    EXPECT_EQ(db::count_pending_jobs(db(), user_), 1);
    auto job = db::claim_job(db(), "w", true, true, 60);
    ASSERT_TRUE(job);
    EXPECT_FALSE(db::enqueue_job(db(), "analyze", sid, user_, "short"));  // running counts too
    EXPECT_TRUE(db::complete_job(db(), *job));
    EXPECT_TRUE(db::enqueue_job(db(), "analyze", sid, user_, "short"));
    EXPECT_EQ(value("SELECT count(*) FROM jobs WHERE session_id = '" + sid + "'"), "2");
}

TEST_F(JobQueue, LockJobQuotaCountsQueuedAndRunningOfTheUser) {
    for (int i = 0; i < 3; ++i) db::enqueue_job(db(), "transcribe", new_session(), user_, "long");
    ASSERT_TRUE(db::claim_job(db(), "w", true, true, 60));
    std::string other = db::insert_user(db(), "other@x.io", "O", "h", "").id;
    db::Tx tx(db());
    EXPECT_EQ(db::lock_job_quota(db(), user_), 3);
    EXPECT_EQ(db::lock_job_quota(db(), other), 0);
    tx.commit();
}

TEST_F(JobQueue, MoveToLongLaneDoesNotCountTheAttemptAndIsFenced) {
    std::string sid = new_session();
    db::enqueue_job(db(), "transcribe", sid, user_, "short");
    auto job = db::claim_job(db(), "w", true, false, 60);
    ASSERT_TRUE(job);
    db::Job stale = *job;
    stale.attempts += 1;
    EXPECT_FALSE(db::move_job_to_long_lane(db(), stale));
    EXPECT_TRUE(db::move_job_to_long_lane(db(), *job));
    // Not counted: the budget grows by one; attempts stays a token no other claim had.
    EXPECT_EQ(value("SELECT lane || ' ' || status || ' ' || attempts || '/' || max_attempts "
                    "FROM jobs WHERE id = " +
                    std::to_string(job->id)),
              "long queued 1/6");
    EXPECT_EQ(value("SELECT status FROM sessions WHERE id = '" + sid + "'"), "queued");
    EXPECT_FALSE(db::claim_job(db(), "short-only", true, false, 60));  // not for the short lane
    auto again = db::claim_job(db(), "w2", false, true, 60);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->attempts, 2);
    EXPECT_FALSE(db::move_job_to_long_lane(db(), *job));  // the old claim is fenced off
}

}  // namespace
