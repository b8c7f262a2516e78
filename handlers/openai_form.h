// The form of POST /v1/audio/transcriptions (handlers/openai.cpp) read into what Rostrum does
// with it: pure functions, so that unit tests and fuzz_resource drive them without a stack.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.h"

namespace handlers {

// The form fields OpenAI's API defines for the route (the `file` part aside). `prompt` and
// `temperature` are Whisper's decoding knobs: accepted (clients send them) and ignored, since
// the recorded pipeline's pocketsphinx search takes neither phrase hints nor a temperature.
inline constexpr std::string_view kOpenAiFormFields[] = {
    "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities[]",
    "stream"};

enum class OpenAiFormat { json, text, srt, vtt, verbose_json };

struct OpenAiOptions {
    OpenAiFormat format = OpenAiFormat::json;
    bool segments = true;  // verbose_json: segments (OpenAI's default granularity)
    bool words = false;    // verbose_json: words (timestamp_granularities[]=word)
    std::string language;  // our model id, e.g. en-us: one of the installed languages
};

// A refusal with OpenAI's `code`, carried in ApiError::type (a plain word, not a /problems/
// URI) and written by openai_error(); `param` is the field at fault (errors[0]).
core::ApiError openai_refusal(int status, std::string code, std::string message,
                              std::string param = {});

// The form as receive_audio gave it (a repeated timestamp_granularities[] joined with ','),
// against the installed languages. Throws openai_refusal 400 naming the field: model missing,
// stream not false, an unknown response_format, temperature not a number in 0..1, a
// granularity other than segment/word or without verbose_json, a language not installed.
OpenAiOptions read_openai_form(const std::map<std::string, std::string>& fields,
                               const std::vector<std::string>& installed);

// OpenAI's `language` (ISO 639-1, "en") as one of ours ("en-us"): an installed id as it is
// (any case); a two-letter code the default language when it is that language, else the first
// installed variant; empty or absent: the default. Else 400 on "language" listing them.
std::string openai_language(const std::optional<std::string>& given,
                            const std::vector<std::string>& installed);

// A session title from an uploaded file's name: without directories, empty unless printable
// UTF-8, cut to the title limit in characters.
std::string title_from_filename(std::string_view filename);

}  // namespace handlers
