// Voice-to-tasks, the worker's side: when a memo session's transcription is stored, the
// task(s) made from it get their prompts (speech::split_prompts) and, when the upload gave no
// title, the title from the first one; with an activity entry by the system and task.updated
// to the task's audience.
#pragma once

#include <string>

#include "db/pg.h"
#include "speech/transcript.h"

namespace worker {

// In the caller's transaction (pipeline.cpp store(), with the transcript it stores). Does
// nothing for a session that is not a memo or that no task comes from (the task was deleted:
// the session stays the user's recording). A memo that gives no prompts (silence) and a task
// already as it would become change nothing and announce nothing.
void fill_memo_prompts(db::Db& db, const std::string& session_id, const speech::Transcript& t);

}  // namespace worker
