// Reading OpenAI's transcription form.
#include "handlers/openai_form.h"

#include <algorithm>
#include <cstdlib>

#include "core/utf8.h"
#include "db/session_rules.h"
#include "speech/languages.h"

namespace handlers {
namespace {

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::optional<std::string> field(const std::map<std::string, std::string>& fields,
                                 const char* name) {
    auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return it->second;
}

OpenAiFormat read_format(const std::optional<std::string>& given) {
    if (!given || *given == "json") return OpenAiFormat::json;
    if (*given == "text") return OpenAiFormat::text;
    if (*given == "srt") return OpenAiFormat::srt;
    if (*given == "vtt") return OpenAiFormat::vtt;
    if (*given == "verbose_json") return OpenAiFormat::verbose_json;
    throw openai_refusal(400, "invalid_value",
                         "response_format must be json, text, srt, vtt or verbose_json",
                         "response_format");
}

// temperature: a number from 0 to 1, as OpenAI checks it; the value itself is not used.
void check_temperature(const std::optional<std::string>& given) {
    if (!given) return;
    char* end = nullptr;
    double t = std::strtod(given->c_str(), &end);
    if (given->empty() || *end != '\0' || !(t >= 0 && t <= 1))
        throw openai_refusal(400, "invalid_value", "temperature must be a number from 0 to 1",
                             "temperature");
}

// timestamp_granularities[]: its values, joined with ',' by receive_audio.
void read_granularities(const std::string& joined, OpenAiOptions& o) {
    o.segments = false;
    size_t from = 0;
    for (;;) {
        size_t comma = joined.find(',', from);
        std::string v = joined.substr(from, comma == std::string::npos ? comma : comma - from);
        if (v == "word") {
            o.words = true;
        } else if (v == "segment") {
            o.segments = true;
        } else {
            throw openai_refusal(400, "invalid_value",
                                 "timestamp_granularities[] takes segment and word",
                                 "timestamp_granularities[]");
        }
        if (comma == std::string::npos) break;
        from = comma + 1;
    }
    if (o.format != OpenAiFormat::verbose_json)
        throw openai_refusal(400, "invalid_value",
                             "timestamp_granularities[] needs response_format=verbose_json",
                             "timestamp_granularities[]");
}

}  // namespace

core::ApiError openai_refusal(int status, std::string code, std::string message,
                              std::string param) {
    std::vector<core::FieldError> errors;
    if (!param.empty()) errors.push_back({param, message});
    return core::ApiError(status, core::status_text(status), std::move(message), std::move(errors),
                          std::move(code));
}

std::string openai_language(const std::optional<std::string>& given,
                            const std::vector<std::string>& installed) {
    if (!given || given->empty()) return speech::kDefaultLanguage;
    std::string want = lower(*given);
    if (has(installed, want)) return want;
    bool iso = want.size() == 2 &&
               std::all_of(want.begin(), want.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    if (iso) {
        std::string def = speech::kDefaultLanguage;
        if (def.rfind(want + "-", 0) == 0 && has(installed, def)) return def;
        for (const std::string& l : installed)
            if (l.rfind(want + "-", 0) == 0) return l;
    }
    std::string list;
    for (const std::string& l : installed) list += (list.empty() ? "" : ", ") + l;
    // The value is quoted back only when it is short printable ASCII (it may be anything).
    bool plain = want.size() <= 32 &&
                 std::all_of(want.begin(), want.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    throw openai_refusal(400, "unsupported_language",
                         "language " + (plain ? "'" + *given + "' " : std::string()) +
                             "is not installed; installed: " + (list.empty() ? "none" : list) +
                             " (ISO 639-1 codes such as 'en' name them too)",
                         "language");
}

OpenAiOptions read_openai_form(const std::map<std::string, std::string>& fields,
                               const std::vector<std::string>& installed) {
    OpenAiOptions o;
    auto model = field(fields, "model");
    if (!model || model->empty())
        throw openai_refusal(400, "missing_required_parameter",
                             "model is required (any value: the answer names the engine)", "model");
    if (auto stream = field(fields, "stream"); stream && *stream != "false")
        throw openai_refusal(400, "unsupported_value", "stream is not supported; send stream=false",
                             "stream");
    o.format = read_format(field(fields, "response_format"));
    check_temperature(field(fields, "temperature"));
    if (auto g = field(fields, "timestamp_granularities[]")) read_granularities(*g, o);
    o.language = openai_language(field(fields, "language"), installed);
    return o;
}

std::string title_from_filename(std::string_view filename) {
    size_t slash = filename.find_last_of("/\\");
    std::string_view name = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
    if (!core::valid_utf8(name)) return "";
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f) return "";
    size_t chars = 0, i = 0;
    while (i < name.size() && chars < db::kSessionTitleMaxChars) {
        i += core::utf8_sequence_length(name, i);
        ++chars;
    }
    return std::string(name.substr(0, i));
}

}  // namespace handlers
