// What an upgrade request must show before it becomes a socket, as plain functions of the
// request's parts (no networking here, so they are unit-tested directly): the access token,
// the Origin, and the endpoint's own parameters. Refusals are core::ApiError (401, 403, 400,
// 422), answered as problem+json before any socket exists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/query.h"
#include "live/lane.h"

namespace live {

// The token from ?token= (vosk clients cannot set headers) or else the HttpOnly access cookie.
// Throws 401 when neither is present.
std::string access_token(const core::Params& query, std::optional<std::string_view> cookie);

// A browser's Origin must name this site (its authority equals the Host header) or one of
// live.allowed_origins ("https://app.example.com,http://localhost:3000"); a request without
// Origin comes from a non-browser client and is allowed. Throws 403 otherwise.
void check_origin(std::optional<std::string_view> origin, std::string_view host,
                  const std::vector<std::string>& allowed);
std::vector<std::string> split_origins(const std::string& csv);

// ?since=<seq> of /ws/events (absent: live events only). Throws 400.
std::optional<int64_t> events_since(const core::Params& query);

// save=1&kind=&title=&patient_id=&project_id=&consent= of /ws/transcribe; nullopt unless
// save=1. Throws 400/422. Whether patient_id is the caller's and project_id one the caller can
// see is checked with the database.
// user_id and audio_dir are filled by the caller.
std::optional<SaveTarget> save_target(const core::Params& query);

// ?lang= of /ws/transcribe: the model the stream is decoded with (and its saved session's
// language), en-us when absent. Throws 422 unless installed (speech::require_installed, the
// API's rule for an upload's language).
std::string stream_language(const core::Params& query, const std::string& model_root);

// An X-Request-Id as logs and close reasons may carry it: 1..64 letters, digits and '-';
// anything else gives "".
std::string clean_request_id(std::string_view id);

}  // namespace live
