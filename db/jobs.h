// The job queue in PostgreSQL: enqueue in the caller's transaction, claim with FOR UPDATE SKIP
// LOCKED, a lease renewed by heartbeat, attempts as the fencing token, retries with capped
// exponential backoff and jitter, dead after max_attempts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct Job {
    int64_t id = 0;
    std::string kind;  // "transcribe" | "analyze"
    std::string session_id;
    std::string user_id;
    std::string lane;
    int attempts = 0;  // after this claim: the fencing token
    int max_attempts = 0;
};

// Clips up to this long go to the short lane, which always has a thread of its own.
inline constexpr double kShortLaneSeconds = 60;

// Queues a job in the caller's transaction. False when the session already has a pending
// (queued or running) job: that one stands, nothing is added.
bool enqueue_job(Db& db, const std::string& kind, const std::string& session_id,
                 const std::string& user_id, const std::string& lane);

// The user's pending (queued or running) jobs, for the quota jobs.max_queued_per_user.
// lock_job_quota first serialises the user's enqueues until the caller's transaction ends, so
// its count stays exact up to the insert; count_pending_jobs is the unlocked early check.
int64_t lock_job_quota(Db& db, const std::string& user_id);
int64_t count_pending_jobs(Db& db, const std::string& user_id);

// A short-lane job whose decoded audio turned out longer than kShortLaneSeconds (its header
// lied): back to queued on the long lane with its session `queued`, the attempt not counted
// (max_attempts + 1: attempts stays the fencing token). Fenced like release_job: false when the
// job was no longer ours.
bool move_job_to_long_lane(Db& db, const Job& job);

// Takes the oldest claimable job of the given lanes (short first when both): queued and due,
// or running with an expired lease (its worker died) and attempts left. Increments attempts.
std::optional<Job> claim_job(Db& db, const std::string& worker, bool short_lane, bool long_lane,
                             int lease_s);
// Extends the lease; false when the job is no longer ours (lease expired and re-claimed).
bool renew_lease(Db& db, const Job& job, int lease_s);
// Marks the job done, in the caller's transaction; false when fenced off (not ours any more):
// the caller must roll back its results.
bool complete_job(Db& db, const Job& job);
// A failure: back to queued after a delay (retry), or dead when permanent or at max_attempts
// (the caller marks the session failed), or nothing changed because the job is no longer
// ours (fenced: its lease expired and another worker has it, or it is done).
enum class FailOutcome { retry, dead, not_ours };
FailOutcome fail_job(Db& db, const Job& job, const std::string& error, bool permanent);
// Gives the job back without counting the attempt (graceful shutdown), and its session back to
// `queued` in the same statement. False when the job was no longer ours (nothing changed).
bool release_job(Db& db, const Job& job);
// Stores the session's progress (status `processing`) only while the job is still ours at this
// attempt: a stale worker cannot move it. False when fenced off (the caller abandons the job).
bool report_progress(Db& db, const Job& job, double fraction);
// The running job a worker (locked_by name) holds, if any: for the master's log when a decoder
// process dies.
std::optional<Job> job_held_by(Db& db, const std::string& worker);

// Seconds to wait before attempt n+1: min(600, 2^n) × a random factor in [0.5, 1.5).
double backoff_seconds(int attempts);

// Expired leases at max_attempts (the worker died every time): dead, session failed, owner
// told. Returns how many. Workers call it periodically.
int64_t reap_expired_jobs(Db& db);

// Queue depth by status, for tests and /metrics.
int64_t count_jobs(Db& db, const std::string& status);

// Workers announce themselves (readyz looks for one seen in the last minute).
void worker_heartbeat(Db& db, const std::string& worker);
bool worker_seen_recently(Db& db, int seconds);

}  // namespace db
