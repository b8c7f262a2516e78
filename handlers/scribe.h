// The scribe's rules on a session's fields, shared by the session routes (handlers/sessions.cpp)
// and defined in handlers/patients.cpp.
#pragma once

#include <optional>
#include <string>

#include "fcgi/router.h"

namespace handlers {

// A session's patient_id must name one of the caller's patients: 422 naming patient_id
// otherwise (another user's patient is not revealed: the same answer as an unknown id).
void require_own_patient(fcgi::Ctx& ctx, const std::string& user_id,
                         const std::optional<std::string>& patient_id);

// An upload's consent field ("true"/"false", absent = false; anything else 422), and
// scribe.require_consent: a scribe session without consent answers 422 naming consent.
bool consent_or_422(fcgi::Ctx& ctx, const std::optional<std::string>& consent,
                    const std::string& kind);

}  // namespace handlers
