// What other routes that take audio reuse of POST /sessions (handlers/sessions.cpp): the storing
// of a received upload as a session with its job (the job quota's checks are in uploads.h).
#pragma once

#include <map>
#include <string>

#include "db/sessions.h"
#include "fcgi/router.h"
#include "handlers/uploads.h"

namespace handlers {

// Stores `up` as the caller's session whose fields are `form` (as POST /sessions takes them:
// kind, title, language, patient_id, project_id; validated the same way, 422 naming a field),
// its audio committed under audio_dir and its transcription job queued under the quota (429),
// in one transaction; the file is removed again if the rows do not commit.
db::Session store_upload(fcgi::Request& req, fcgi::Ctx& ctx, ReceivedAudio& up,
                         const std::map<std::string, std::string>& form);

}  // namespace handlers
