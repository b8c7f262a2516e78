// The rules on a session's own fields, in one place for every way a session is made or changed:
// the API's upload and PATCH, a saved live stream (live/upgrade.cpp), the OpenAPI document and
// the schema's CHECK (both compared with this list by tests/db/session_jobs_test.cpp and
// tests/unit/db/session_rules_test.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace db {

// sessions.kind: what the recording is for. The first is the default.
inline constexpr const char* kSessionKinds[] = {"practice", "scribe", "interview", "memo"};
inline constexpr const char* kDefaultSessionKind = kSessionKinds[0];

// sessions.status: where its job is (the worker and the job queue move it; clients filter on it).
inline constexpr const char* kSessionStatuses[] = {"queued", "processing", "done", "failed"};

// sessions.title: at most this many characters (Unicode code points, not bytes).
inline constexpr size_t kSessionTitleMaxChars = 200;

bool is_session_kind(std::string_view kind);

// 422 on the field `kind` ("must be practice, scribe, interview or memo") unless it is one.
void check_session_kind(const std::string& kind);
// 422 on the field `title` ("must be at most 200 characters") when longer. The text is valid
// UTF-8 already (every query and form parser checks it).
void check_session_title(const std::string& title);

}  // namespace db
