// Queries on jobs.
#include "db/jobs.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>

#include "core/numbers.h"

#include "db/events.h"

namespace db {
namespace {

// The NOTIFY wakes idle workers at commit; they also poll, so a lost wake-up only delays.
// A session with a pending job keeps that one (jobs_one_pending_per_session): no row comes
// back. A concurrent insert for the same session waits for the first to commit, then does
// nothing.
constexpr Statement kEnqueueJob{"enqueue_job", R"sql(
    WITH j AS (INSERT INTO jobs (kind, session_id, user_id, lane) VALUES ($1, $2, $3, $4)
               ON CONFLICT (session_id) WHERE status IN ('queued', 'running') DO NOTHING
               RETURNING id, lane)
    SELECT pg_notify('rostrum_jobs', lane) FROM j)sql"};
// Serialises one user's enqueues until the transaction ends (class 0x6a6f6273 = "jobs"), so
// that the count after it is exact when the insert follows.
constexpr Statement kLockJobQuota{"lock_job_quota",
                                  "SELECT pg_advisory_xact_lock(x'6a6f6273'::int, hashtext($1))"};
constexpr Statement kCountPendingJobs{"count_pending_jobs", R"sql(
    SELECT count(*) FROM jobs WHERE user_id = $1 AND status IN ('queued', 'running'))sql",
                                      kIdempotent};
// Fenced like release_job, and like it puts the session back to `queued`. The attempt is not
// counted against the job: max_attempts grows by one instead of attempts shrinking, so that
// the next claim's attempt (the fencing token) is still one no earlier claim had. The NOTIFY
// wakes the decoders that serve the long lane.
constexpr Statement kMoveToLongLane{"move_job_to_long_lane", R"sql(
    WITH moved AS (
        UPDATE jobs SET lane = 'long', status = 'queued', max_attempts = max_attempts + 1,
                        locked_by = NULL, locked_until = NULL, updated_at = now()
        WHERE id = $1 AND attempts = $2 AND status = 'running'
        RETURNING session_id),
    s AS (
        UPDATE sessions s SET status = 'queued', progress = 0, updated_at = now()
        FROM moved WHERE s.id = moved.session_id
        RETURNING s.id)
    SELECT pg_notify('rostrum_jobs', 'long') FROM moved)sql"};
// $3/$4 select the lanes; short jobs first so that a burst of long ones never starves them.
constexpr Statement kClaimJob{"claim_job", R"sql(
    UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1,
                    locked_until = now() + make_interval(secs => $2), updated_at = now()
    WHERE id = (
        SELECT id FROM jobs
        WHERE ((status = 'queued' AND run_after <= now())
               OR (status = 'running' AND locked_until < now() AND attempts < max_attempts))
          AND ((lane = 'short' AND $3::boolean) OR (lane = 'long' AND $4::boolean))
        ORDER BY (lane = 'short') DESC, id
        FOR UPDATE SKIP LOCKED
        LIMIT 1)
    RETURNING id, kind, session_id, user_id, lane, attempts, max_attempts)sql"};
constexpr Statement kRenewLease{"renew_lease", R"sql(
    UPDATE jobs SET locked_until = now() + make_interval(secs => $3)
    WHERE id = $1 AND attempts = $2 AND status = 'running')sql"};
constexpr Statement kCompleteJob{"complete_job", R"sql(
    UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = now()
    WHERE id = $1 AND attempts = $2 AND status = 'running')sql"};
constexpr Statement kRetryJob{"retry_job", R"sql(
    UPDATE jobs SET status = CASE WHEN $4::boolean OR attempts >= max_attempts
                                  THEN 'dead' ELSE 'queued' END,
                    run_after = now() + make_interval(secs => $5),
                    last_error = $3, locked_by = NULL, locked_until = NULL, updated_at = now()
    WHERE id = $1 AND attempts = $2 AND status = 'running'
    RETURNING status)sql"};
// The session goes back to `queued` with its job: a released job must not leave its session
// showing `processing` while nobody works on it.
constexpr Statement kReleaseJob{"release_job", R"sql(
    WITH released AS (
        UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL,
                        locked_until = NULL, updated_at = now()
        WHERE id = $1 AND attempts = $2 AND status = 'running'
        RETURNING session_id)
    UPDATE sessions s SET status = 'queued', progress = 0, updated_at = now()
    FROM released WHERE s.id = released.session_id
    RETURNING s.id)sql"};
// FOR SHARE: a re-claim (UPDATE of the job row) cannot slip in between the check and the write;
// a progress write waiting behind one re-reads the row and finds the attempt changed.
constexpr Statement kReportProgress{"report_progress", R"sql(
    UPDATE sessions SET status = 'processing', progress = $3, updated_at = now()
    WHERE id = (SELECT session_id FROM jobs
                WHERE id = $1 AND attempts = $2 AND status = 'running'
                FOR SHARE))sql"};
constexpr Statement kJobHeldBy{"job_held_by", R"sql(
    SELECT id, kind, session_id, user_id, lane, attempts, max_attempts FROM jobs
    WHERE locked_by = $1 AND status = 'running'
    ORDER BY id DESC LIMIT 1)sql"};
// Jobs whose workers died on every attempt: dead, their sessions failed (the owners are told
// in the same transaction).
constexpr Statement kReapJobs{"reap_expired_jobs", R"sql(
    WITH dead AS (
        UPDATE jobs SET status = 'dead', locked_by = NULL, locked_until = NULL, updated_at = now(),
                        last_error = 'the worker died on each of ' || attempts || ' attempts'
        WHERE status = 'running' AND locked_until < now() AND attempts >= max_attempts
        RETURNING session_id, user_id, last_error)
    UPDATE sessions s SET status = 'failed', error = dead.last_error, updated_at = now()
    FROM dead WHERE s.id = dead.session_id
    RETURNING s.id, s.user_id, s.error)sql"};
constexpr Statement kCountJobs{"count_jobs", "SELECT count(*) FROM jobs WHERE status = $1"};
constexpr Statement kWorkerHeartbeat{"worker_heartbeat", R"sql(
    INSERT INTO workers (name) VALUES ($1)
    ON CONFLICT (name) DO UPDATE SET seen_at = now())sql"};
constexpr Statement kWorkerSeen{"worker_seen", R"sql(
    SELECT EXISTS (SELECT 1 FROM workers
                   WHERE seen_at > now() - make_interval(secs => $1)))sql"};

// A claimed or held job from a RETURNING/SELECT of (id, kind, session_id, user_id, lane,
// attempts, max_attempts).
std::optional<Job> job_from(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return Job{row.i64("id"),
               row.str("kind"),
               row.str("session_id"),
               row.str("user_id"),
               row.str("lane"),
               static_cast<int>(row.i64("attempts")),
               static_cast<int>(row.i64("max_attempts"))};
}

}  // namespace

bool enqueue_job(Db& db, const std::string& kind, const std::string& session_id,
                 const std::string& user_id, const std::string& lane) {
    return db.exec(kEnqueueJob, {kind, session_id, user_id, lane}).rows() == 1;
}

int64_t lock_job_quota(Db& db, const std::string& user_id) {
    db.exec(kLockJobQuota, {user_id});
    return count_pending_jobs(db, user_id);
}

int64_t count_pending_jobs(Db& db, const std::string& user_id) {
    return db.exec(kCountPendingJobs, {user_id}).scalar_i64();
}

bool move_job_to_long_lane(Db& db, const Job& job) {
    return db.exec(kMoveToLongLane, {std::to_string(job.id), std::to_string(job.attempts)})
               .rows() == 1;
}

std::optional<Job> claim_job(Db& db, const std::string& worker, bool short_lane, bool long_lane,
                             int lease_s) {
    return job_from(db.exec(
        kClaimJob, {worker, std::to_string(lease_s), std::string(short_lane ? "true" : "false"),
                    std::string(long_lane ? "true" : "false")}));
}

std::optional<Job> job_held_by(Db& db, const std::string& worker) {
    return job_from(db.exec(kJobHeldBy, {worker}));
}

bool report_progress(Db& db, const Job& job, double fraction) {
    return db.exec(kReportProgress,
                   {std::to_string(job.id), std::to_string(job.attempts), core::fixed3(fraction)})
               .affected() == 1;
}

bool renew_lease(Db& db, const Job& job, int lease_s) {
    return db.exec(kRenewLease,
                   {std::to_string(job.id), std::to_string(job.attempts), std::to_string(lease_s)})
               .affected() == 1;
}

bool complete_job(Db& db, const Job& job) {
    return db.exec(kCompleteJob, {std::to_string(job.id), std::to_string(job.attempts)})
               .affected() == 1;
}

FailOutcome fail_job(Db& db, const Job& job, const std::string& error, bool permanent) {
    Result r = db.exec(kRetryJob, {std::to_string(job.id), std::to_string(job.attempts), error,
                                   std::string(permanent ? "true" : "false"),
                                   core::fixed3(backoff_seconds(job.attempts))});
    if (r.rows() != 1) return FailOutcome::not_ours;
    return r.scalar_str() == "dead" ? FailOutcome::dead : FailOutcome::retry;
}

bool release_job(Db& db, const Job& job) {
    return db.exec(kReleaseJob, {std::to_string(job.id), std::to_string(job.attempts)}).rows() == 1;
}

double backoff_seconds(int attempts) {
    double base = std::min(600.0, std::pow(2.0, std::max(0, attempts)));
    double jitter = 0.5 + randombytes_uniform(1000000) / 1e6;  // [0.5, 1.5)
    return base * jitter;
}

int64_t reap_expired_jobs(Db& db) {
    Tx tx(db);
    Result failed = db.exec(kReapJobs);
    for (int i = 0; i < failed.rows(); ++i) {
        Row row(failed, i);
        publish(db, Audience::user(row.str("user_id")),
                session_failed(row.str("id"), row.str("error")));
    }
    tx.commit();
    return failed.rows();
}

int64_t count_jobs(Db& db, const std::string& status) {
    return db.exec(kCountJobs, {status}).scalar_i64();
}

void worker_heartbeat(Db& db, const std::string& worker) {
    db.exec(kWorkerHeartbeat, {worker});
}

bool worker_seen_recently(Db& db, int seconds) {
    return db.exec(kWorkerSeen, {std::to_string(seconds)}).scalar_bool();
}

}  // namespace db
