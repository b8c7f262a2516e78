// The scribe's step of a finished job: a done scribe session gets its clinical note drafted
// (speech/clinical_note.h), in the job's completing transaction.
#pragma once

#include "db/jobs.h"
#include "db/pg.h"
#include "speech/transcript.h"

namespace worker {

// Called by store() inside its transaction. `t` is the new transcript (nullptr for a
// re-analysis: the stored words are read). Does nothing unless the session is a scribe session
// without a note: a re-analysis never overwrites a note a clinician may have edited or
// approved. Publishes note.updated to the owner.
void draft_scribe_note(db::Db& db, const db::Job& job, const speech::Transcript* t);

}  // namespace worker
