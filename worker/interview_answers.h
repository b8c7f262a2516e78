// The interview simulator's step of a finished job: a transcribed voice answer (a session of
// kind interview that answers a turn) becomes the turn's feedback and scores, the next turn is
// asked (a follow-up or the bank's next question) and interview.turn is published, all in the
// job's completing transaction; a voice answer whose job failed for good marks its turn failed
// (the question is open again). The rules are speech/interview_turn.h's: the same as a typed
// answer's.
#pragma once

#include "db/jobs.h"
#include "db/pg.h"
#include "speech/metrics.h"
#include "speech/transcript.h"

namespace worker {

// Called by store() inside its transaction, with the new transcript and its analysis. Does
// nothing unless the session answers a turn that is still processing in an interview in
// progress (a finished or deleted interview keeps the session as the user's recording).
void answer_interview_turn(db::Db& db, const db::Job& job, const speech::Transcript& t,
                           double duration_s, const speech::Analysis& a);

// Called by record_job_failure when the job is dead, inside its transaction.
void fail_interview_turn(db::Db& db, const db::Job& job);

}  // namespace worker
