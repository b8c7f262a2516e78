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

#include "core/temp_file.h"
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

}  // namespace handlers
