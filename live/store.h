// Storing a saved stream (save=1): the session row, its words and transcript, and the analysis
// job, in one transaction. The audio file is already in place; it is removed again if the
// rows cannot be written, so there is never a file without a session or the reverse.
#pragma once

#include <string>

#include "db/pg.h"
#include "live/lane.h"

namespace live {

// Returns the session id. Throws db::DbError (the file is removed first).
std::string store_saved_stream(db::Db& db, const SavedStream& s);

}  // namespace live
