// The job queue against a real PostgreSQL: claim (FOR UPDATE SKIP LOCKED), leases, the attempt
// number as fencing token, retries with capped backoff and jitter, dead jobs, release on
// shutdown, the two lanes, and worker heartbeats.
#include "db/jobs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/passwords.h"
#include "core/temp_file.h"
#include "db/sessions.h"
#include "db/users.h"
#include "tests/db/test_db.h"
#include "worker/lease.h"

namespace {

constexpr int kLease = 30;

class Jobs : public testdb::DbTest {
  protected:
    static void SetUpTestSuite() {
        DbTest::SetUpTestSuite();
        core::init_crypto();
    }

    void SetUp() override {
        DbTest::SetUp();  // users CASCADE: sessions, words, analyses, jobs
        db().exec_script("TRUNCATE events, workers");
        user_ = db::insert_user(db(), "jobs@x.io", "J", "h", "").id;
    }

    // A session row (the jobs' foreign key) of the test user.
    std::string new_session() {
        db::NewSession s;
        s.id = core::new_uuid();
        s.user_id = user_;
        s.kind = "practice";
        s.audio_path = s.id + ".wav";
        s.audio_format = "wav";
        s.audio_mime = "audio/wav";
        s.audio_bytes = 44;
        s.duration_s = 3.0;
        s.language = "en-us";
        return db::insert_session(db(), s).id;
    }

    // Enqueues a transcribe job on a new session; returns the session id.
    std::string enqueue(const std::string& lane = "short") {
        std::string sid = new_session();
        db::enqueue_job(db(), "transcribe", sid, user_, lane);
        return sid;
    }

    std::optional<db::Job> claim(const std::string& worker = "w1", bool short_lane = true,
                                 bool long_lane = true, int lease = kLease) {
        return db::claim_job(db(), worker, short_lane, long_lane, lease);
    }

    // One value of one row, as text ("" for NULL).
    std::string value(const std::string& sql) {
        db::Result r = db().exec_script(sql);
        EXPECT_EQ(r.rows(), 1) << sql;
        if (r.rows() != 1) return "";
        return r.single_column()[0].value_or("");
    }
    std::string job_field(int64_t id, const std::string& expr) {
        return value("SELECT " + expr + " FROM jobs WHERE id = " + std::to_string(id));
    }
    void expire_lease(int64_t id) {
        db().exec_script("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = " +
                         std::to_string(id));
    }
    void make_due(int64_t id) {
        db().exec_script("UPDATE jobs SET run_after = now() - interval '1 second' WHERE id = " +
                         std::to_string(id));
    }

    std::string user_;
};

// --- claim -------------------------------------------------------------------------------

TEST_F(Jobs, EnqueueThenClaimReturnsTheJobWithAttemptOne) {
    std::string sid = enqueue("long");
    EXPECT_EQ(db::count_jobs(db(), "queued"), 1);
    auto job = claim("w1");
    ASSERT_TRUE(job);
    EXPECT_GT(job->id, 0);
    EXPECT_EQ(job->kind, "transcribe");
    EXPECT_EQ(job->session_id, sid);
    EXPECT_EQ(job->user_id, user_);
    EXPECT_EQ(job->lane, "long");
    EXPECT_EQ(job->attempts, 1);
    EXPECT_EQ(job->max_attempts, 5);
    EXPECT_EQ(job_field(job->id, "status"), "running");
    EXPECT_EQ(job_field(job->id, "locked_by"), "w1");
    // The lease runs from now for lease_s seconds.
    EXPECT_EQ(job_field(job->id,
                        "locked_until BETWEEN now() + interval '29 seconds' AND "
                        "now() + interval '31 seconds'"),
              "t");
    EXPECT_EQ(db::count_jobs(db(), "queued"), 0);
    EXPECT_EQ(db::count_jobs(db(), "running"), 1);
}

TEST_F(Jobs, SecondClaimFindsNothing) {
    enqueue();
    ASSERT_TRUE(claim("w1"));
    EXPECT_FALSE(claim("w2"));
    EXPECT_FALSE(claim("w1"));
}

TEST_F(Jobs, EmptyQueueClaimsNothing) {
    EXPECT_FALSE(claim());
}

TEST_F(Jobs, EnqueueIsPartOfTheCallersTransaction) {
    {
        db::Tx tx(db());
        enqueue();
        // Rolled back: no job without its session and vice versa.
    }
    EXPECT_EQ(value("SELECT count(*) FROM jobs"), "0");
    EXPECT_EQ(value("SELECT count(*) FROM sessions"), "0");
    EXPECT_FALSE(claim());
}

TEST_F(Jobs, OldestFirstWithinALane) {
    std::string a = enqueue("long"), b = enqueue("long"), c = enqueue("long");
    EXPECT_EQ(claim()->session_id, a);
    EXPECT_EQ(claim()->session_id, b);
    EXPECT_EQ(claim()->session_id, c);
}

TEST_F(Jobs, SkipLockedConcurrentClaimersGetDifferentJobsWithoutWaiting) {
    enqueue();
    enqueue();
    db::Db other(settings());
    std::optional<db::Job> first, second;
    {
        // The first claimer's transaction is still open: its row stays locked.
        db::Tx tx(db());
        first = claim("w1");
        ASSERT_TRUE(first);
        auto t0 = std::chrono::steady_clock::now();
        second = db::claim_job(other, "w2", true, true, kLease);
        auto waited = std::chrono::steady_clock::now() - t0;
        EXPECT_LT(waited, std::chrono::seconds(2)) << "the second claim waited for the lock";
        // While the first transaction holds the last free row, a third claim finds nothing.
        db::Db third(settings());
        EXPECT_FALSE(db::claim_job(third, "w3", true, true, kLease));
        tx.commit();
    }
    ASSERT_TRUE(second);
    EXPECT_NE(first->id, second->id);
    EXPECT_EQ(second->attempts, 1);
    EXPECT_EQ(db::count_jobs(db(), "running"), 2);
}

TEST_F(Jobs, RacingClaimersTakeEveryJobExactlyOnce) {
    constexpr int kJobs = 60, kThreads = 4;
    for (int i = 0; i < kJobs; ++i) enqueue(i % 3 == 0 ? "long" : "short");
    std::mutex mu;
    std::map<int64_t, int> claims;
    std::atomic<int> completed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            db::Db d(settings());
            std::string name = "w" + std::to_string(t);
            while (auto job = db::claim_job(d, name, true, true, kLease)) {
                {
                    std::lock_guard<std::mutex> lock(mu);
                    ++claims[job->id];
                }
                if (db::complete_job(d, *job)) completed.fetch_add(1);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(static_cast<int>(claims.size()), kJobs);
    for (const auto& [id, n] : claims) EXPECT_EQ(n, 1) << "job " << id << " claimed twice";
    EXPECT_EQ(completed.load(), kJobs);
    EXPECT_EQ(db::count_jobs(db(), "done"), kJobs);
    EXPECT_EQ(value("SELECT max(attempts) FROM jobs"), "1");
}

// --- leases and fencing ------------------------------------------------------------------

TEST_F(Jobs, LiveLeaseIsNotReclaimable) {
    enqueue();
    auto job = claim("w1", true, true, 60);
    ASSERT_TRUE(job);
    EXPECT_FALSE(claim("w2"));
    EXPECT_TRUE(db::renew_lease(db(), *job, 60));
    EXPECT_FALSE(claim("w2"));
}

TEST_F(Jobs, ExpiredLeaseIsReclaimedAndTheOldAttemptIsFenced) {
    std::string sid = enqueue();
    auto old = claim("w1");
    ASSERT_TRUE(old);
    expire_lease(old->id);
    auto fresh = claim("w2");
    ASSERT_TRUE(fresh) << "a running job whose lease expired must be claimable";
    EXPECT_EQ(fresh->id, old->id);
    EXPECT_EQ(fresh->session_id, sid);
    EXPECT_EQ(fresh->attempts, 2);
    EXPECT_EQ(job_field(fresh->id, "locked_by"), "w2");

    // The first worker comes back: every write with its token is refused.
    EXPECT_FALSE(db::renew_lease(db(), *old, kLease));
    EXPECT_FALSE(db::complete_job(db(), *old));
    EXPECT_EQ(db::fail_job(db(), *old, "late failure", false), db::FailOutcome::not_ours);
    db::release_job(db(), *old);
    EXPECT_EQ(job_field(fresh->id, "status"), "running");
    EXPECT_EQ(job_field(fresh->id, "attempts"), "2");
    EXPECT_EQ(job_field(fresh->id, "locked_by"), "w2");
    EXPECT_EQ(job_field(fresh->id, "last_error"), "");

    // The new holder is unaffected.
    EXPECT_TRUE(db::renew_lease(db(), *fresh, kLease));
    EXPECT_TRUE(db::complete_job(db(), *fresh));
    EXPECT_EQ(job_field(fresh->id, "status"), "done");
    EXPECT_EQ(job_field(fresh->id, "locked_by"), "");
    EXPECT_EQ(job_field(fresh->id, "locked_until"), "");
    // Done is final: neither token can touch it again, and nobody can claim it.
    EXPECT_FALSE(db::complete_job(db(), *fresh));
    EXPECT_FALSE(db::renew_lease(db(), *fresh, kLease));
    EXPECT_FALSE(db::complete_job(db(), *old));
    EXPECT_FALSE(claim("w3"));
}

TEST_F(Jobs, FencedCompletionRollsBackWithTheCallersTransaction) {
    // The pipeline's pattern: results and completion in one transaction, rolled back when
    // complete_job says the job is no longer ours.
    enqueue();
    auto old = claim("w1");
    ASSERT_TRUE(old);
    expire_lease(old->id);
    auto fresh = claim("w2");
    ASSERT_TRUE(fresh);
    {
        db::Tx tx(db());
        db::store_analysis(db(), old->session_id, "{\"stale\":true}", 1, 2, 3);
        ASSERT_FALSE(db::complete_job(db(), *old));
        // Not committed: the destructor rolls back.
    }
    EXPECT_EQ(value("SELECT count(*) FROM analyses"), "0");
    EXPECT_EQ(job_field(fresh->id, "status"), "running");
}

// A worker that dies on a job every time (a poison file that crashes the decoder, the OOM
// killer) never calls fail_job: only lease expiry brings the job back. It must still stop at
// max_attempts instead of being re-run forever.
TEST_F(Jobs, ExpiredLeasesCountTowardsMaxAttempts) {
    enqueue();
    int64_t id = 0;
    for (int attempt = 1; attempt <= 5; ++attempt) {
        auto job = claim("crashing");
        ASSERT_TRUE(job) << "attempt " << attempt;
        EXPECT_EQ(job->attempts, attempt);
        id = job->id;
        expire_lease(id);  // the worker died holding it
    }
    auto sixth = claim("crashing");
    EXPECT_FALSE(sixth) << "claimed again with attempts " << (sixth ? sixth->attempts : 0)
                        << " > max_attempts 5";
    EXPECT_LE(std::stoi(job_field(id, "attempts")), 5);
}

TEST_F(Jobs, ReaperEndsJobsWhoseWorkersDiedEveryTime) {
    std::string sid = enqueue();
    std::string live = enqueue();     // at max attempts but its lease is live: left alone
    std::string retried = enqueue();  // expired below max attempts: re-claimable, not reaped
    db().exec_script(
        "UPDATE jobs SET status = 'running', attempts = 5, locked_by = 'gone', "
        "locked_until = now() - interval '1 second' WHERE session_id = '" +
        sid + "'");
    db().exec_script(
        "UPDATE jobs SET status = 'running', attempts = 5, locked_by = 'alive', "
        "locked_until = now() + interval '1 minute' WHERE session_id = '" +
        live + "'");
    db().exec_script(
        "UPDATE jobs SET status = 'running', attempts = 2, locked_by = 'gone', "
        "locked_until = now() - interval '1 second' WHERE session_id = '" +
        retried + "'");
    EXPECT_EQ(db::reap_expired_jobs(db()), 1);
    auto field = [&](const std::string& session, const std::string& expr) {
        return value("SELECT " + expr + " FROM jobs WHERE session_id = '" + session + "'");
    };
    EXPECT_EQ(field(sid, "status"), "dead");
    EXPECT_EQ(field(sid, "locked_by"), "");
    EXPECT_NE(field(sid, "last_error"), "");
    EXPECT_EQ(value("SELECT status FROM sessions WHERE id = '" + sid + "'"), "failed");
    EXPECT_NE(value("SELECT coalesce(error, '') FROM sessions WHERE id = '" + sid + "'"), "");
    EXPECT_EQ(value("SELECT count(*) FROM events WHERE event = 'session.failed' AND user_id = '" +
                    user_ + "' AND data->>'id' = '" + sid + "'"),
              "1");
    EXPECT_EQ(field(live, "status"), "running");
    EXPECT_EQ(field(retried, "status"), "running");
    EXPECT_EQ(value("SELECT status FROM sessions WHERE id = '" + live + "'"), "queued");
    // Idempotent: nothing more to reap.
    EXPECT_EQ(db::reap_expired_jobs(db()), 0);
    EXPECT_EQ(value("SELECT count(*) FROM events WHERE event = 'session.failed'"), "1");
    auto next = claim("w");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->session_id, retried);
    EXPECT_EQ(next->attempts, 3);
}

TEST_F(Jobs, RenewLeaseExtendsIt) {
    enqueue();
    auto job = claim("w1", true, true, 5);
    ASSERT_TRUE(job);
    EXPECT_TRUE(db::renew_lease(db(), *job, 600));
    EXPECT_EQ(job_field(job->id, "locked_until > now() + interval '500 seconds'"), "t");
}

// --- failures, retries, dead jobs --------------------------------------------------------

TEST_F(Jobs, RetryableFailureRequeuesWithBackoff) {
    enqueue();
    auto job = claim("w1");
    ASSERT_TRUE(job);
    EXPECT_EQ(db::fail_job(db(), *job, "boom", false), db::FailOutcome::retry);
    EXPECT_EQ(job_field(job->id, "status"), "queued");
    EXPECT_EQ(job_field(job->id, "last_error"), "boom");
    EXPECT_EQ(job_field(job->id, "attempts"), "1");
    EXPECT_EQ(job_field(job->id, "locked_by"), "");
    EXPECT_EQ(job_field(job->id, "locked_until"), "");
    // After attempt 1 the delay is 2^1 s × [0.5, 1.5): run_after - updated_at (both now()).
    double delay = std::stod(job_field(job->id, "extract(epoch FROM run_after - updated_at)"));
    EXPECT_GE(delay, 1.0 - 0.001);
    EXPECT_LT(delay, 3.0 + 0.001);
    EXPECT_EQ(job_field(job->id, "run_after > now()"), "t");
    // Not due yet: nobody takes it.
    EXPECT_FALSE(claim("w2"));
    make_due(job->id);
    auto again = claim("w2");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->id, job->id);
    EXPECT_EQ(again->attempts, 2);
}

TEST_F(Jobs, BackoffGrowsWithTheAttemptNumber) {
    enqueue();
    for (int attempt = 1; attempt <= 4; ++attempt) {
        auto job = claim("w1");
        ASSERT_TRUE(job);
        ASSERT_EQ(job->attempts, attempt);
        ASSERT_EQ(db::fail_job(db(), *job, "again", false), db::FailOutcome::retry);
        double base = std::pow(2.0, attempt);
        double delay = std::stod(job_field(job->id, "extract(epoch FROM run_after - updated_at)"));
        EXPECT_GE(delay, 0.5 * base - 0.001) << "attempt " << attempt;
        EXPECT_LT(delay, 1.5 * base + 0.001) << "attempt " << attempt;
        make_due(job->id);
    }
}

TEST_F(Jobs, DeadAtMaxAttempts) {
    enqueue();
    int64_t id = 0;
    for (int attempt = 1; attempt <= 5; ++attempt) {
        auto job = claim("w1");
        ASSERT_TRUE(job) << "attempt " << attempt;
        EXPECT_EQ(job->attempts, attempt);
        id = job->id;
        const auto outcome = db::fail_job(db(), *job, "failure " + std::to_string(attempt), false);
        EXPECT_EQ(outcome, attempt == 5 ? db::FailOutcome::dead : db::FailOutcome::retry)
            << "attempt " << attempt;
        make_due(id);
    }
    EXPECT_EQ(job_field(id, "status"), "dead");
    EXPECT_EQ(job_field(id, "attempts"), "5");
    EXPECT_EQ(job_field(id, "last_error"), "failure 5");
    EXPECT_EQ(job_field(id, "locked_by"), "");
    EXPECT_FALSE(claim("w2")) << "a dead job is never claimed again";
    EXPECT_EQ(db::count_jobs(db(), "dead"), 1);
}

TEST_F(Jobs, MaxAttemptsIsPerJob) {
    enqueue();
    db().exec_script("UPDATE jobs SET max_attempts = 1");
    auto job = claim();
    ASSERT_TRUE(job);
    EXPECT_EQ(job->max_attempts, 1);
    EXPECT_EQ(db::fail_job(db(), *job, "once", false), db::FailOutcome::dead);
    EXPECT_EQ(job_field(job->id, "status"), "dead");
}

TEST_F(Jobs, PermanentFailureIsDeadAtOnce) {
    enqueue();
    auto job = claim("w1");
    ASSERT_TRUE(job);
    EXPECT_EQ(db::fail_job(db(), *job, "unreadable audio", true), db::FailOutcome::dead);
    EXPECT_EQ(job_field(job->id, "status"), "dead");
    EXPECT_EQ(job_field(job->id, "attempts"), "1");
    EXPECT_EQ(job_field(job->id, "last_error"), "unreadable audio");
    make_due(job->id);
    EXPECT_FALSE(claim("w2"));
}

TEST_F(Jobs, FailureOfAJobNotRunningChangesNothing) {
    enqueue();
    auto job = claim();
    ASSERT_TRUE(job);
    ASSERT_TRUE(db::complete_job(db(), *job));
    EXPECT_EQ(db::fail_job(db(), *job, "after done", true), db::FailOutcome::not_ours);
    EXPECT_EQ(job_field(job->id, "status"), "done");
    EXPECT_EQ(job_field(job->id, "last_error"), "");
}

// --- release (graceful shutdown) ---------------------------------------------------------

TEST_F(Jobs, ReleaseGivesTheJobBackWithoutCountingTheAttempt) {
    enqueue();
    auto job = claim("w1");
    ASSERT_TRUE(job);
    db::release_job(db(), *job);
    EXPECT_EQ(job_field(job->id, "status"), "queued");
    EXPECT_EQ(job_field(job->id, "attempts"), "0");
    EXPECT_EQ(job_field(job->id, "locked_by"), "");
    EXPECT_EQ(job_field(job->id, "locked_until"), "");
    EXPECT_EQ(job_field(job->id, "run_after <= now()"), "t") << "released jobs run at once";
    auto again = claim("w2");
    ASSERT_TRUE(again) << "a released job is claimable at once";
    EXPECT_EQ(again->id, job->id);
    EXPECT_EQ(again->attempts, 1);
    // Note: the released attempt number is handed out again (the releaser never uses its
    // token after release_job, so this is safe); fencing of other stale holders still holds:
    // see ReleaseKeepsFencingStaleHolders.
}

TEST_F(Jobs, ReleaseKeepsFencingStaleHolders) {
    enqueue();
    auto a = claim("a");  // attempt 1, then a pauses past its lease
    ASSERT_TRUE(a);
    expire_lease(a->id);
    auto b = claim("b");  // attempt 2, then b shuts down gracefully
    ASSERT_TRUE(b);
    ASSERT_EQ(b->attempts, 2);
    db::release_job(db(), *b);
    EXPECT_EQ(job_field(b->id, "attempts"), "1");
    // The job is queued: a's token (1) matches the counter but not the status.
    EXPECT_FALSE(db::renew_lease(db(), *a, kLease));
    EXPECT_FALSE(db::complete_job(db(), *a));
    auto c = claim("c");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->attempts, 2);
    EXPECT_FALSE(db::renew_lease(db(), *a, kLease));
    EXPECT_FALSE(db::complete_job(db(), *a));
    EXPECT_EQ(db::fail_job(db(), *a, "late", false), db::FailOutcome::not_ours);
    EXPECT_EQ(job_field(c->id, "locked_by"), "c");
    EXPECT_TRUE(db::complete_job(db(), *c));
}

TEST_F(Jobs, ReleaseAfterRetriesKeepsTheEarlierAttempts) {
    enqueue();
    auto first = claim();
    ASSERT_TRUE(first);
    ASSERT_EQ(db::fail_job(db(), *first, "x", false), db::FailOutcome::retry);
    make_due(first->id);
    auto second = claim();
    ASSERT_TRUE(second);
    ASSERT_EQ(second->attempts, 2);
    db::release_job(db(), *second);
    EXPECT_EQ(job_field(second->id, "attempts"), "1");
    EXPECT_EQ(job_field(second->id, "status"), "queued");
}

TEST_F(Jobs, ReleasePutsTheSessionBackToQueuedWithTheJob) {
    std::string sid = enqueue();
    auto job = claim("w1");
    ASSERT_TRUE(job);
    ASSERT_TRUE(db::report_progress(db(), *job, 0.5));
    EXPECT_EQ(value("SELECT status || ' ' || progress FROM sessions WHERE id = '" + sid + "'"),
              "processing 0.5");
    EXPECT_TRUE(db::release_job(db(), *job));
    EXPECT_EQ(job_field(job->id, "status"), "queued");
    EXPECT_EQ(value("SELECT status || ' ' || progress FROM sessions WHERE id = '" + sid + "'"),
              "queued 0");
    // A second release (or one by a stale holder) changes nothing and says so.
    EXPECT_FALSE(db::release_job(db(), *job));
}

TEST_F(Jobs, ReleaseByAStaleHolderLeavesTheSessionAlone) {
    std::string sid = enqueue();
    auto old = claim("w1");
    ASSERT_TRUE(old);
    expire_lease(old->id);
    auto fresh = claim("w2");
    ASSERT_TRUE(fresh);
    ASSERT_TRUE(db::report_progress(db(), *fresh, 0.25));
    EXPECT_FALSE(db::release_job(db(), *old));
    EXPECT_EQ(value("SELECT status || ' ' || progress FROM sessions WHERE id = '" + sid + "'"),
              "processing 0.25");
    EXPECT_EQ(job_field(fresh->id, "status"), "running");
}

// --- progress (fenced) -------------------------------------------------------------------

TEST_F(Jobs, ProgressIsFencedByTheAttempt) {
    std::string sid = enqueue();
    auto old = claim("w1");
    ASSERT_TRUE(old);
    EXPECT_TRUE(db::report_progress(db(), *old, 0.3));
    expire_lease(old->id);
    auto fresh = claim("w2");
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(db::report_progress(db(), *fresh, 0.1));
    // The paused worker wakes up further along than the new one: refused.
    EXPECT_FALSE(db::report_progress(db(), *old, 0.9));
    EXPECT_EQ(value("SELECT progress FROM sessions WHERE id = '" + sid + "'"), "0.1");
    ASSERT_TRUE(db::complete_job(db(), *fresh));
    db::mark_session_done(db(), sid);
    // After done, neither attempt moves it.
    EXPECT_FALSE(db::report_progress(db(), *fresh, 0.5));
    EXPECT_FALSE(db::report_progress(db(), *old, 0.5));
    EXPECT_EQ(value("SELECT status || ' ' || progress FROM sessions WHERE id = '" + sid + "'"),
              "done 1");
}

TEST_F(Jobs, ProgressOfAnotherSessionsJobTouchesOnlyItsOwnSession) {
    std::string a = enqueue(), b = enqueue();
    auto ja = claim("w1");
    ASSERT_TRUE(ja);
    ASSERT_EQ(ja->session_id, a);
    EXPECT_TRUE(db::report_progress(db(), *ja, 0.4));
    EXPECT_EQ(value("SELECT status || ' ' || progress FROM sessions WHERE id = '" + b + "'"),
              "queued 0");
}

TEST_F(Jobs, JobHeldByNamesTheRunningJobOfAWorker) {
    enqueue();
    EXPECT_FALSE(db::job_held_by(db(), "host:1:0"));
    auto job = claim("host:1:0");
    ASSERT_TRUE(job);
    auto held = db::job_held_by(db(), "host:1:0");
    ASSERT_TRUE(held);
    EXPECT_EQ(held->id, job->id);
    EXPECT_EQ(held->attempts, 1);
    EXPECT_FALSE(db::job_held_by(db(), "host:2:0"));
    ASSERT_TRUE(db::complete_job(db(), *job));
    EXPECT_FALSE(db::job_held_by(db(), "host:1:0"));
}

// --- the lease keeper (worker/lease.h) ---------------------------------------------------

// A healthy job whose decoding reaches no checkpoint for longer than the lease keeps its lease:
// nobody can claim it during three whole leases.
TEST_F(Jobs, LeaseKeeperKeepsAHealthyJobPastSeveralLeases) {
    enqueue();
    constexpr int kShortLease = 1;
    auto job = claim("w1", true, true, kShortLease);
    ASSERT_TRUE(job);
    worker::LeaseKeeper keeper(settings(), kShortLease);
    worker::HeldJob held(keeper, *job);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3 * kShortLease);
    db::Db other(settings());
    while (std::chrono::steady_clock::now() < until) {
        auto stolen = db::claim_job(other, "w2", true, true, kShortLease);
        ASSERT_FALSE(stolen) << "re-claimed (attempt " << stolen->attempts
                             << ") while its worker was healthy";
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a polling interval
    }
    EXPECT_FALSE(keeper.lost().load());
    EXPECT_EQ(job_field(job->id, "attempts"), "1");
    EXPECT_EQ(job_field(job->id, "locked_by"), "w1");
}

TEST_F(Jobs, LeaseKeeperNoticesThatTheJobWasReclaimed) {
    enqueue();
    auto job = claim("w1", true, true, 1);
    ASSERT_TRUE(job);
    worker::LeaseKeeper keeper(settings(), 1);
    worker::HeldJob held(keeper, *job);
    // The holder was paused past its lease; another worker took the job.
    expire_lease(job->id);
    auto fresh = claim("w2", true, true, 60);
    ASSERT_TRUE(fresh);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!keeper.lost().load() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(keeper.lost().load()) << "the keeper did not notice the fence";
    // Its renewals never touched the new holder's lease.
    EXPECT_EQ(job_field(job->id, "locked_by"), "w2");
    EXPECT_EQ(job_field(job->id,
                        "locked_until BETWEEN now() + interval '50 seconds' AND "
                        "now() + interval '61 seconds'"),
              "t");
}

TEST_F(Jobs, LeaseKeeperStopsRenewingADroppedJob) {
    enqueue();
    auto job = claim("w1", true, true, 1);
    ASSERT_TRUE(job);
    worker::LeaseKeeper keeper(settings(), 1);
    { worker::HeldJob held(keeper, *job); }
    // The worker let go of it without finishing (it died, say): the lease runs out.
    db::Db other(settings());
    std::optional<db::Job> again;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!again && std::chrono::steady_clock::now() < deadline) {
        again = db::claim_job(other, "w2", true, true, 60);
        if (!again) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(again) << "a dropped job's lease was still being renewed";
    EXPECT_EQ(again->attempts, 2);
    EXPECT_FALSE(keeper.lost().load());
}

TEST_F(Jobs, LeaseKeeperFollowsTheNextJob) {
    enqueue();
    enqueue();
    worker::LeaseKeeper keeper(settings(), 1);
    auto first = claim("w1", true, true, 1);
    ASSERT_TRUE(first);
    {
        worker::HeldJob held(keeper, *first);
        expire_lease(first->id);
        ASSERT_TRUE(claim("w2", true, true, 60));  // first is fenced now
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!keeper.lost().load() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ASSERT_TRUE(keeper.lost().load());
    }
    auto second = claim("w1", true, true, 1);
    ASSERT_TRUE(second);
    worker::HeldJob held(keeper, *second);
    EXPECT_FALSE(keeper.lost().load()) << "a new job starts with a clean flag";
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
    while (std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(keeper.lost().load());
    EXPECT_EQ(job_field(second->id, "locked_until > now()"), "t");
}

// --- lanes -------------------------------------------------------------------------------

TEST_F(Jobs, ShortLaneFirstWhenBothLanesAreAsked) {
    std::string long1 = enqueue("long");
    std::string long2 = enqueue("long");
    std::string short1 = enqueue("short");
    auto a = claim("w1", true, true);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->session_id, short1);
    EXPECT_EQ(a->lane, "short");
    auto b = claim("w1", true, true);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->session_id, long1);
    auto c = claim("w1", true, true);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->session_id, long2);
}

TEST_F(Jobs, ShortOnlyClaimerNeverTakesALongJob) {
    enqueue("long");
    EXPECT_FALSE(claim("short-only", true, false));
    // Not even one whose lease expired.
    auto job = claim("w1", true, true);
    ASSERT_TRUE(job);
    expire_lease(job->id);
    EXPECT_FALSE(claim("short-only", true, false));
    std::string s = enqueue("short");
    auto got = claim("short-only", true, false);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->session_id, s);
}

TEST_F(Jobs, LongOnlyClaimerLeavesShortJobs) {
    enqueue("short");
    EXPECT_FALSE(claim("long-only", false, true));
    EXPECT_FALSE(claim("nothing", false, false));
    EXPECT_TRUE(claim("w1", true, false));
}

// --- backoff formula ---------------------------------------------------------------------

TEST(JobBackoff, WithinHalfToOneAndAHalfTimesTwoToTheNCapped) {
    core::init_crypto();
    for (int n = 0; n <= 30; ++n) {
        double base = std::min(600.0, std::pow(2.0, n));
        double lo = 1e18, hi = 0;
        for (int i = 0; i < 2000; ++i) {
            double d = db::backoff_seconds(n);
            ASSERT_GE(d, 0.5 * base) << "n=" << n;
            ASSERT_LT(d, 1.5 * base) << "n=" << n;
            lo = std::min(lo, d);
            hi = std::max(hi, d);
        }
        // Jitter really spreads over the range (2000 draws: both ends within 5 %).
        EXPECT_LT(lo, 0.55 * base) << "n=" << n;
        EXPECT_GT(hi, 1.45 * base) << "n=" << n;
        EXPECT_LT(hi, 600 * 1.5) << "n=" << n;
    }
}

TEST(JobBackoff, CapAndEdgeCases) {
    core::init_crypto();
    for (int n : {10, 11, 20, 64, 1000, 1 << 30}) {
        for (int i = 0; i < 200; ++i) {
            double d = db::backoff_seconds(n);
            EXPECT_GE(d, 300.0) << "n=" << n;
            EXPECT_LT(d, 900.0) << "n=" << n;
        }
    }
    for (int n : {-1, -100}) {  // never negative or zero
        double d = db::backoff_seconds(n);
        EXPECT_GE(d, 0.5);
        EXPECT_LT(d, 1.5);
    }
}

// --- workers -----------------------------------------------------------------------------

TEST_F(Jobs, WorkerHeartbeatAndSeenRecently) {
    EXPECT_FALSE(db::worker_seen_recently(db(), 60));
    db::worker_heartbeat(db(), "host:1:0");
    EXPECT_TRUE(db::worker_seen_recently(db(), 60));
    db().exec_script("UPDATE workers SET seen_at = now() - interval '2 minutes'");
    EXPECT_FALSE(db::worker_seen_recently(db(), 60));
    EXPECT_TRUE(db::worker_seen_recently(db(), 180));
    db::worker_heartbeat(db(), "host:1:0");  // upsert: the same row, fresh again
    EXPECT_TRUE(db::worker_seen_recently(db(), 60));
    EXPECT_EQ(value("SELECT count(*) FROM workers"), "1");
    db::worker_heartbeat(db(), "host:2:0");
    EXPECT_EQ(value("SELECT count(*) FROM workers"), "2");
}

TEST_F(Jobs, CountJobsByStatus) {
    enqueue();
    enqueue();
    enqueue();
    auto a = claim();
    auto b = claim();
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(db::complete_job(db(), *a));
    ASSERT_EQ(db::fail_job(db(), *b, "bad", true), db::FailOutcome::dead);
    EXPECT_EQ(db::count_jobs(db(), "queued"), 1);
    EXPECT_EQ(db::count_jobs(db(), "running"), 0);
    EXPECT_EQ(db::count_jobs(db(), "done"), 1);
    EXPECT_EQ(db::count_jobs(db(), "dead"), 1);
}

TEST_F(Jobs, DeletingTheSessionDeletesItsJobs) {
    std::string sid = enqueue();
    db().exec_script("DELETE FROM sessions WHERE id = '" + sid + "'");
    EXPECT_EQ(value("SELECT count(*) FROM jobs"), "0");
    EXPECT_FALSE(claim());
}

}  // namespace
