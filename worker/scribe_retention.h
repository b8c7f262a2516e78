// Scribe audio retention (scribe.retention_days): a step of the worker's sweep.
#pragma once

#include <cstdint>

#include "core/config.h"
#include "db/pg.h"

namespace worker {

// Deletes the audio files of scribe sessions recorded more than scribe.retention_days ago and
// stamps their audio_deleted_at (GET /audio then answers 410); the row, transcript and note
// stay. A session with a pending job keeps its audio until the job is done. Returns how many
// files were removed; nothing when the setting is 0.
int64_t expire_scribe_audio(db::Db& db, const core::Config& cfg);

}  // namespace worker
