// OpenAI's speech-to-text API at the site root: POST /v1/audio/transcriptions, what OpenAI's own
// client libraries call when their base URL is http://host/v1. The upload is stored as a
// practice session exactly as POST /api/v1/sessions stores one (its job goes to `rostrum
// worker`; this process never decodes), then the request waits for the job's session.done or
// session.failed (LISTEN rostrum_events, the table read again on each hint) for at most
// openai.max_wait_s, and answers in the format asked for. Every refusal is in OpenAI's error
// shape ({"error": {message, type, param, code}}), the form its clients parse.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "core/config.h"
#include "core/json.h"
#include "core/numbers.h"
#include "core/problem.h"
#include "db/listen.h"
#include "db/sessions.h"
#include "db/settings.h"
#include "fcgi/scoreboard.h"
#include "handlers/common.h"
#include "handlers/openai_form.h"
#include "handlers/routes.h"
#include "handlers/sessions.h"
#include "handlers/transcript_formats.h"
#include "handlers/uploads.h"
#include "speech/languages.h"

namespace handlers {
namespace {

// What a client over openai.max_waiting is told to wait: about a short clip's transcription.
constexpr int kBusyRetryAfterS = 5;
// The route's name in the table (its scoreboard index counts the waiting requests).
constexpr const char* kRouteName = "openai_transcriptions";

// openai.max_waiting: the pool's workers in this route right now (this one included), read
// from the scoreboard where each worker publishes its route before the handler runs. Of
// requests arriving together the last to publish sees them all, so the bound is never
// passed (two may both refuse in a tie). CGI mode has no pool to protect: no bound.
void waiting_bound_or_throw(const Ctx& ctx) {
    if (workers_in_route(ctx, kRouteName) <= ctx.cfg.openai_max_waiting) return;
    core::ApiError e = openai_refusal(
        429, "rate_limit_exceeded",
        "too many transcriptions are waiting at once (the most allowed is " +
            std::to_string(ctx.cfg.openai_max_waiting) + "); retry after a few seconds");
    e.headers.emplace_back("Retry-After", std::to_string(kBusyRetryAfterS));
    throw e;
}

bool finished(const db::Session& s) {
    return s.status == "done" || s.status == "failed";
}

// Waits for the session's job: LISTEN first, then the table is read (after each (re)connection,
// so a job done before the LISTEN is seen) and again on each event naming the session; the
// table, not the payload, decides. nullopt when openai.max_wait_s passes.
std::optional<db::Session> wait_for_job(Ctx& ctx, const std::string& user_id,
                                        const std::string& session_id) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(ctx.cfg.openai_max_wait_s);
    db::Listener listener(db::db_settings(ctx.cfg, "api-openai"), {"rostrum_events"});
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        bool look = left.count() <= 0;  // one last read at the deadline
        if (!look) {
            for (const db::Notification& n : listener.wait(static_cast<int>(left.count())))
                if (n.payload.find(session_id) != std::string::npos) look = true;
            if (listener.reconnected()) look = true;
        }
        if (look) {
            auto s = db::find_session(ctx.db, user_id, session_id);
            if (!s)
                throw openai_refusal(
                    404, "session_deleted",
                    "session " + session_id + " was deleted before it was transcribed");
            if (finished(*s)) return s;
        }
        if (left.count() <= 0) return std::nullopt;
    }
}

// The worker's fixed sentences for audio it could not use (worker/pipeline.cpp
// audio_error_text): the client's file, so a 4xx, and the session is not kept.
std::optional<int> client_fault_status(const std::string& error) {
    if (error.rfind("too_long", 0) == 0) return 413;
    if (error == "the recording holds no audio" || error == "the recording could not be decoded")
        return 400;
    return std::nullopt;
}

core::ApiError with_session(core::ApiError e, const std::string& session_id) {
    e.headers.emplace_back("x-rostrum-session-id", session_id);
    // OpenAI's clients retry 5xx by themselves: each retry would store the audio again.
    if (e.status >= 500) e.headers.emplace_back("x-should-retry", "false");
    return e;
}

// A failed job: bad audio removes the session (nothing stored, as for audio refused at upload)
// and answers 4xx; any other failure keeps it and answers 500 naming it.
[[noreturn]] void job_failed(Ctx& ctx, const std::string& user_id, const db::Session& s) {
    std::string error = s.error.value_or("processing failed");
    if (auto status = client_fault_status(error)) {
        if (auto path = db::delete_session(ctx.db, user_id, s.id)) remove_audio_files(ctx, {*path});
        throw openai_refusal(*status, *status == 413 ? "file_too_long" : "invalid_file",
                             "the audio file could not be transcribed: " + error, "file");
    }
    throw with_session(
        openai_refusal(500, "transcription_failed",
                       "the transcription failed (" + error + "); it is kept as session " + s.id),
        s.id);
}

const char* language_name(const std::string& language) {
    // OpenAI's verbose_json names the language in English words.
    static constexpr std::pair<const char*, const char*> kNames[] = {
        {"en", "english"}, {"fr", "french"}, {"de", "german"},     {"es", "spanish"},
        {"it", "italian"}, {"nl", "dutch"},  {"pt", "portuguese"}, {"ru", "russian"},
        {"zh", "chinese"}, {"el", "greek"},  {"hi", "hindi"},      {"kk", "kazakh"}};
    std::string iso = language.substr(0, language.find('-'));
    for (const auto& [code, name] : kNames)
        if (iso == code) return name;
    return nullptr;
}

// A segment's words: its cue's words, in order (group_cues consumes them in order; a word has
// no space in it, so a cue of n words has n - 1 spaces).
size_t cue_words(const Cue& c) {
    return static_cast<size_t>(std::count(c.text.begin(), c.text.end(), ' ')) + 1;
}

// Whisper's per-segment average log probability, from the recogniser's word confidences.
double avg_logprob(const std::vector<db::StoredWord>& words, size_t from, size_t n) {
    if (n == 0) return 0;
    double sum = 0;
    for (size_t i = from; i < from + n && i < words.size(); ++i)
        sum += std::log(std::max(words[i].confidence, 1e-4));
    return sum / static_cast<double>(n);
}

std::string verbose_json(const db::Session& s, const std::vector<db::StoredWord>& words,
                         const OpenAiOptions& o) {
    core::JsonWriter w;
    w.begin_object().field("task", "transcribe");
    const char* name = language_name(s.language);
    w.field("language", name ? std::string(name) : s.language);
    w.key("duration").raw(core::fixed3(s.duration_s.value_or(0)));
    w.field("text", s.transcript_text.value_or(""));
    if (o.segments) {
        w.key("segments").begin_array();
        size_t next = 0;
        int id = 0;
        for (const Cue& c : group_cues(words)) {
            size_t n = cue_words(c);
            w.begin_object()
                .field("id", id++)
                .field("seek", static_cast<int64_t>(std::llround(c.start_s * 100)))
                .key("start")
                .raw(core::fixed3(c.start_s))
                .key("end")
                .raw(core::fixed3(c.end_s))
                .field("text", c.text)
                .key("tokens")
                .begin_array()
                .end_array()
                .key("temperature")
                .raw("0.0")
                .key("avg_logprob")
                .raw(core::fixed3(avg_logprob(words, next, n)))
                // Whisper's repetition check; the recogniser does not loop, so 1 (no repetition).
                .key("compression_ratio")
                .raw("1.0")
                // Segments hold recognised words only: never silence.
                .key("no_speech_prob")
                .raw("0.0")
                .end_object();
            next += n;
        }
        w.end_array();
    }
    if (o.words) {
        w.key("words").begin_array();
        for (const db::StoredWord& word : words) {
            w.begin_object()
                .field("word", word.word)
                .key("start")
                .raw(core::fixed3(word.start_s))
                .key("end")
                .raw(core::fixed3(word.end_s))
                .end_object();
        }
        w.end_array();
    }
    w.field("engine", s.engine.value_or(""));
    w.end_object();
    return w.take();
}

Response transcription(Ctx& ctx, const db::Session& s, const OpenAiOptions& o) {
    std::string text = s.transcript_text.value_or("");
    Response r = [&] {
        switch (o.format) {
            case OpenAiFormat::text:
                return Response::text(200, "text/plain", text + "\n");
            case OpenAiFormat::srt:
                return Response::text(200, "text/plain",
                                      render_srt(db::session_words(ctx.db, s.id)));
            case OpenAiFormat::vtt:
                return Response::text(200, "text/vtt", render_vtt(db::session_words(ctx.db, s.id)));
            case OpenAiFormat::verbose_json:
                return Response::json(200, verbose_json(s, db::session_words(ctx.db, s.id), o));
            case OpenAiFormat::json:
                break;
        }
        core::JsonWriter w;
        w.begin_object().field("text", text).end_object();
        return Response::json(200, w.take());
    }();
    r.header("x-rostrum-session-id", s.id).header("x-rostrum-engine", s.engine.value_or(""));
    return r;
}

}  // namespace

Response openai_error(const core::ApiError& e, const Request& req) {
    std::string param = e.errors.empty() ? std::string() : e.errors.front().field;
    // OpenAI answers 400 for a form field it does not take; our 422s on the form are that. An
    // unknown query parameter stays 422 (the API's rule; OpenAI's clients send none).
    bool query_param = !param.empty() && req.query.get(param).has_value();
    int status = e.status == 422 && !query_param ? 400 : e.status;
    std::string code = e.type;
    if (code.empty() || code.rfind("/problems/", 0) == 0) {
        switch (status) {
            case 401:
                code = "invalid_api_key";
                break;
            case 404:
                code = "not_found";
                break;
            case 413:
                code = "file_too_large";
                break;
            case 415:
                code = "invalid_file_format";
                break;
            case 429:
                code = "rate_limit_exceeded";
                break;
            case 400:
                code = param.empty() ? "invalid_request" : "invalid_value";
                break;
            default:
                code = status >= 500 ? "server_error" : "invalid_request";
                break;
        }
    }
    std::string message = e.detail.empty() ? e.title : e.detail;
    if (status >= 500 && status != 504) message += " (request " + req.request_id + ")";
    core::JsonWriter w;
    w.begin_object().key("error").begin_object().field("message", message);
    w.field("type", status >= 500 ? "server_error" : "invalid_request_error");
    if (param.empty()) {
        w.key("param").null();
    } else {
        w.field("param", param);
    }
    w.field("code", code).end_object().end_object();
    Response r = Response::json(status, w.take());
    for (const auto& [k, v] : e.headers) r.header(k, v);
    // OpenAI's clients read the request id from this header into their errors.
    r.header("x-request-id", req.request_id);
    return r;
}

Response openai_transcriptions(Request& req, Ctx& ctx) {
    waiting_bound_or_throw(ctx);
    job_quota_or_throw(ctx, req.user().id);  // before the body is read, as POST /sessions
    ReceivedAudio up = receive_audio(req, ctx, kOpenAiFormFields);
    OpenAiOptions o = read_openai_form(up.fields, speech::installed_languages(ctx.cfg.model_root));
    std::map<std::string, std::string> form{{"kind", "practice"},
                                            {"title", title_from_filename(up.filename)},
                                            {"language", o.language}};
    db::Session s = store_upload(req, ctx, up, form);
    std::optional<db::Session> done = wait_for_job(ctx, req.user().id, s.id);
    if (!done) {
        throw with_session(
            openai_refusal(504, "timeout",
                           "the transcription is not done after " +
                               std::to_string(ctx.cfg.openai_max_wait_s) +
                               " s; it goes on and is kept as session " + s.id +
                               ": GET /api/v1/sessions/" + s.id + "/transcript when it is done"),
            s.id);
    }
    if (done->status == "failed") job_failed(ctx, req.user().id, *done);
    Response r = transcription(ctx, *done, o);
    r.header("x-request-id", req.request_id);
    return r;
}

}  // namespace handlers
