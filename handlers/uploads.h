// Receiving an audio upload: multipart/form-data (a `file` part plus small text fields) or a
// raw audio/* body (fields from the query string), streamed to a TempFile in
// <data>/audio/tmp with bounded memory, then probed by content. Shared by every route that
// takes audio (sessions now; interview answers and voice memos later).
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/problem.h"
#include "core/temp_file.h"
#include "db/session_jobs.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "speech/audio.h"

namespace handlers {

struct ReceivedAudio {
    std::unique_ptr<core::TempFile> file;       // uncommitted: removed unless committed
    std::map<std::string, std::string> fields;  // the text fields that were sent
    std::string filename;                       // the file part's filename, as sent (or empty)
    speech::AudioInfo info;                     // format and duration, sniffed from content
};

// Streams the body to disk and probes it. A field named `x[]` may repeat (form arrays, as
// OpenAI's clients send timestamp_granularities[]): its values are joined with ','. Throws
// ApiError: 400 malformed multipart, two file parts, another text field given twice or over 1 KiB,
// an unknown field; 411/400 no body; 413 over upload.max_bytes or (from the header)
// upload.max_seconds; 415 not audio (by content), a Content-Encoding, an unsupported Content-Type;
// 422 no audio in it / invalid header; 507 disk full. Nothing is left on disk when it throws.
ReceivedAudio receive_audio(fcgi::Request& req, fcgi::Ctx& ctx,
                            std::span<const std::string_view> text_fields);

// The directory uploads are written to and committed into.
std::string audio_dir(const fcgi::Ctx& ctx);

// Removes stored audio files (names under audio_dir) whose rows are gone, after the commit that
// deleted them. A file already missing is fine; any other failure is logged and left to the
// worker's sweep of orphan files.
void remove_audio_files(const fcgi::Ctx& ctx, const std::vector<std::string>& names);

// jobs.max_queued_per_user: a user's queued and running jobs are bounded, so that one account
// cannot fill the queue in front of everyone else. Every route that uploads audio for a job
// (sessions, voice memos) answers the same 429.
core::ApiError over_job_quota(const fcgi::Ctx& ctx, int64_t pending);

// The cheap early check an upload makes before its body is read. The exact one is
// db::create_session's, in the transaction that enqueues (the user's enqueues serialised).
void job_quota_or_throw(fcgi::Ctx& ctx, const std::string& user_id);

// Runs a db::create_session or db::start_analysis under jobs.max_queued_per_user, its refusal
// answered 429.
template <class F>
auto create_or_throw(fcgi::Ctx& ctx, F&& f) {
    try {
        return f(db::JobQuota(ctx.cfg.jobs_max_queued_per_user));
    } catch (const db::OverJobQuota& e) {
        throw over_job_quota(ctx, e.pending);
    }
}

}  // namespace handlers
