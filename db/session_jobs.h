// "A session, its job and its event": the one way a session is made or queued again. Every
// caller (the API's upload and re-analysis, a saved live stream) gets the same transaction:
// the row or its state change, its job (one pending job per session, the user's quota) and the
// event that tells its owner, committed together or not at all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>

#include "db/pg.h"
#include "db/sessions.h"

namespace db {

// What a session starts (or starts again) as: its state, its job and its announcement.
enum class SessionStart {
    // queued at 0 with a "transcribe" job; session.created: an upload.
    transcribe,
    // processing at 0.5 with an "analyze" job (the transcript stands): a saved live stream
    // (session.created) or a re-analysis (session.progress).
    analyse,
};

// The most pending (queued or running) jobs a user may have, jobs.max_queued_per_user;
// nullopt: not held to one (a live stream is stored whatever the queue: it cannot be sent
// again).
using JobQuota = std::optional<int64_t>;

// A job would take the user past the quota: nothing was written.
class OverJobQuota : public std::runtime_error {
  public:
    explicit OverJobQuota(int64_t pending_jobs)
        : std::runtime_error("over the job quota"), pending(pending_jobs) {}
    int64_t pending;  // the user's pending jobs
};

// The lane a job starts on, from the duration known so far: short when at most
// kShortLaneSeconds; unknown goes long (a short-lane job found longer while decoding is moved
// by the worker: db::move_job_to_long_lane).
const char* lane_for(const std::optional<double>& duration_s);

// Inserts the session, runs `with_rows` (rows that come with it: a live stream's words and
// transcript), queues its first job and publishes session.created to its owner, in one
// transaction of its own (the caller is in none). Returns the row as the event describes it.
// Throws OverJobQuota or DbError, having written nothing.
Session create_session(Db& db, const NewSession& ns, SessionStart start, JobQuota quota,
                       const std::function<void(const Session&)>& with_rows = {});

// A re-analysis of a transcribed session: an "analyze" job, the session processing at 0.5 and
// session.progress to its owner, in one transaction of its own. False, and nothing changed,
// when the session has a pending job already (that one stands, whatever the quota). Throws
// OverJobQuota when the job would take the user past the quota.
bool start_analysis(Db& db, Session& s, JobQuota quota);

}  // namespace db
