// A session, its job and its event, in one transaction.
#include "db/session_jobs.h"

#include "db/events.h"
#include "db/jobs.h"

namespace db {
namespace {

struct StartState {
    const char* status;
    double progress;
    const char* job_kind;
};

StartState state_of(SessionStart start) {
    switch (start) {
        case SessionStart::transcribe:
            return {"queued", 0, "transcribe"};
        case SessionStart::analyse:
            break;
    }
    return {"processing", 0.5, "analyze"};  // the transcript stands; only the analysis runs
}

// Moves the session to its start state and queues its job, the user's quota locked first (so
// that the count stays exact up to the insert). False when the session had a pending job: the
// state is left as that job keeps it. A job is refused only when it would be added.
bool queue(Db& db, Session& s, SessionStart start, JobQuota quota) {
    const int64_t pending = quota ? lock_job_quota(db, s.user_id) : 0;
    const StartState st = state_of(start);
    if (!enqueue_job(db, st.job_kind, s.id, s.user_id, lane_for(s.duration_s))) return false;
    if (quota && pending >= *quota) throw OverJobQuota(pending);  // the insert rolls back
    if (s.status != st.status || s.progress != st.progress) {
        set_session_progress(db, s.id, st.status, st.progress);
        s.status = st.status;
        s.progress = st.progress;
    }
    return true;
}

}  // namespace

const char* lane_for(const std::optional<double>& duration_s) {
    return duration_s && *duration_s <= kShortLaneSeconds ? "short" : "long";
}

Session create_session(Db& db, const NewSession& ns, SessionStart start, JobQuota quota,
                       const std::function<void(const Session&)>& with_rows) {
    Tx tx(db);
    Session s = insert_session(db, ns);
    if (with_rows) with_rows(s);
    queue(db, s, start, quota);  // a new session has no pending job: its job is always added
    publish(db, Audience::user(s.user_id),
            start == SessionStart::transcribe ? session_created_queued(s.id)
                                              : session_created_analysing(s.id));
    tx.commit();
    return s;
}

bool start_analysis(Db& db, Session& s, JobQuota quota) {
    Tx tx(db);
    if (!queue(db, s, SessionStart::analyse, quota)) return false;  // nothing was written
    publish(db, Audience::user(s.user_id), session_analysing(s.id));
    tx.commit();
    return true;
}

}  // namespace db
