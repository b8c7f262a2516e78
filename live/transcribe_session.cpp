// /ws/transcribe (live/transcribe_session.h): control messages, frames to the lane and
// replies back, eof, saving, and what a dropped socket leaves behind.
#include "live/transcribe_session.h"

#include <algorithm>
#include <cstring>
#include <system_error>
#include <vector>

#include "core/json.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/temp_file.h"
#include "live/server.h"
#include "live/store.h"

namespace live {
namespace {

// The most audio one lane task decodes for a stream (its frames are cut to this): about 50 ms
// of one core, the longest another stream's frame waits for this one.
constexpr double kSliceS = 0.25;

}  // namespace

void TranscribeSession::on_message(bool text, std::string_view data, Clock::time_point at) {
    if (state_ == State::ended)
        return close(websocket::close_code::protocol_error, "nothing may follow eof");
    if (text) return on_control(data, at);
    on_audio(data, at);
}

void TranscribeSession::on_control(std::string_view data, Clock::time_point at) {
    core::JsonPtr root;
    try {
        root = core::parse_json_strict(data);
    } catch (const core::ApiError& e) {
        return close(websocket::close_code::bad_payload, "malformed JSON: " + e.detail);
    }
    if (!cJSON_IsObject(root.get()))
        return close(websocket::close_code::unknown_data,
                     "expected audio frames, {\"config\": ...} or {\"eof\": 1}");
    if (const cJSON* config = cJSON_GetObjectItemCaseSensitive(root.get(), "config")) {
        if (state_ != State::configuring)
            return close(websocket::close_code::protocol_error, "config must come before audio");
        return on_config(config);
    }
    if (cJSON_GetObjectItemCaseSensitive(root.get(), "eof")) return on_eof(at);
    close(websocket::close_code::unknown_data,
          "expected audio frames, {\"config\": ...} or {\"eof\": 1}");
}

void TranscribeSession::on_config(const cJSON* config) {
    if (!cJSON_IsObject(config))
        return close(websocket::close_code::unknown_data, "config must be an object");
    // vosk-server reads these keys and ignores others; so do we.
    if (const cJSON* r = cJSON_GetObjectItemCaseSensitive(config, "sample_rate")) {
        if (!cJSON_IsNumber(r) ||
            !(r->valuedouble >= 8000 && r->valuedouble <= core::kLiveMaxSampleRate))
            return close(websocket::close_code::unknown_data,
                         "sample_rate must be between 8000 and 48000");
        opt_.sample_rate = static_cast<int>(r->valuedouble);
    }
    if (const cJSON* w = cJSON_GetObjectItemCaseSensitive(config, "words")) {
        if (!cJSON_IsBool(w) && !cJSON_IsNumber(w))
            return close(websocket::close_code::unknown_data, "words must be true or false");
        opt_.words = cJSON_IsBool(w) ? cJSON_IsTrue(w) : w->valuedouble != 0;
    }
    if (const cJSON* m = cJSON_GetObjectItemCaseSensitive(config, "max_alternatives")) {
        if (!cJSON_IsNumber(m) || m->valuedouble < 0 || m->valuedouble > 100)
            return close(websocket::close_code::unknown_data, "max_alternatives must be 0..100");
        opt_.max_alternatives = static_cast<int>(m->valuedouble);
    }
    if (const cJSON* p = cJSON_GetObjectItemCaseSensitive(config, "phrase_list")) {
        if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) > 10000)
            return close(websocket::close_code::unknown_data, "phrase_list must be an array");
        opt_.phrases.clear();
        const cJSON* item = nullptr;
        cJSON_ArrayForEach(item, p) {
            if (!cJSON_IsString(item))
                return close(websocket::close_code::unknown_data, "phrase_list holds strings");
            opt_.phrases.emplace_back(item->valuestring);
        }
    }
}

void TranscribeSession::ensure_stream(Clock::time_point at) {
    if (stream_) return;
    stream_ = std::make_shared<LiveStream>(opt_, language_, save_);
    lane_ = srv_.pick_lane();
    lane_taken_ = true;
    state_ = State::streaming;
    started_ = at;
    srv_.metrics().active_streams.fetch_add(1);
    srv_.metrics().streams_total.fetch_add(1);
}

void TranscribeSession::end_stream() {
    if (!lane_taken_) return;
    lane_taken_ = false;
    srv_.release_lane(lane_);
    srv_.metrics().active_streams.fetch_sub(1);
}

bool TranscribeSession::wants_input() const {
    return queued_samples_ <= static_cast<int64_t>(srv_.cfg().live_max_queued_s) * opt_.sample_rate;
}

void TranscribeSession::on_audio(std::string_view data, Clock::time_point at) {
    if (data.size() % 2 != 0)
        return close(websocket::close_code::unknown_data,
                     "PCM frames are 16-bit samples: odd byte count");
    int64_t n = static_cast<int64_t>(data.size() / 2);
    if (samples_ + n > static_cast<int64_t>(srv_.cfg().live_max_stream_s) * opt_.sample_rate)
        return close(websocket::close_code::policy_error, "stream longer than live.max_stream_s");
    ensure_stream(at);
    samples_ += n;
    // Ahead of real time: more audio than wall time since the first frame. Back-pressure
    // already bounds what waits; this bounds how long one stream may take more than its share.
    double ahead = static_cast<double>(samples_) / opt_.sample_rate -
                   std::chrono::duration<double>(at - started_).count();
    if (ahead > srv_.cfg().live_max_ahead_s) {
        srv_.metrics().streams_ahead_closed.fetch_add(1);
        return close(websocket::close_code::policy_error,
                     "stream ahead of real time by more than live.max_ahead_s");
    }
    // Slices of at most kSliceS: a large message (up to live.max_message_bytes, 8 s at
    // 16 kHz) must not hold the lane for the other streams while it is decoded.
    const auto* samples = reinterpret_cast<const int16_t*>(data.data());
    const int64_t slice = std::max<int64_t>(1, static_cast<int64_t>(kSliceS * opt_.sample_rate));
    for (int64_t from = 0; from < n; from += slice) {
        int64_t len = std::min(slice, n - from);
        Waiting w{std::vector<int16_t>(samples + from, samples + from + len), at, false,
                  from + len == n};
        waiting_.push_back(std::move(w));
    }
    queued_samples_ += n;
    pump();
}

// Hands the next waiting frame to the lane when none of this stream's is there.
void TranscribeSession::pump() {
    if (on_lane_ || waiting_.empty() || closing_ || gone()) return;
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    on_lane_ = true;
    if (w.eof) {
        eof_posted_ = true;
        return post_eof(w.at);
    }
    post_frame(std::move(w));
}

namespace {

// What went wrong on the lane, as the client is told (a fixed text) and as the log says.
struct Failure {
    bool refused = false;  // the options were refused: 1003 with our own message
    std::string reason;
    std::string detail;
};

template <class F>
std::optional<Failure> run_guarded(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return Failure{true, e.what(), e.what()};  // speech/'s own text naming the bad option
    } catch (const core::DiskFullError& e) {
        return Failure{false, "the stream's audio could not be stored", e.what()};
    } catch (const std::system_error& e) {
        return Failure{false, "the stream's audio could not be stored", e.what()};
    } catch (const std::length_error& e) {
        return Failure{false, "the stream's audio could not be stored", e.what()};
    } catch (const std::exception& e) {
        return Failure{false, "decoder failure", e.what()};
    }
    return std::nullopt;
}

}  // namespace

void TranscribeSession::post_frame(Waiting w) {
    auto self = std::static_pointer_cast<TranscribeSession>(shared_from_this());
    srv_.lane(lane_).post([self, stream = stream_, w = std::move(w)](Lane& lane) {
        std::optional<std::string> reply;
        auto failed = run_guarded([&] { reply = stream->accept_slice(lane, w.pcm, w.last); });
        int64_t n = static_cast<int64_t>(w.pcm.size());
        self->srv_.on_io([self, reply = std::move(reply), failed, at = w.at, n] {
            self->queued_samples_ -= n;
            self->on_lane_ = false;
            if (failed) return self->fail(failed->refused, failed->reason, failed->detail);
            if (reply) self->replied(*reply, at, false);
            self->pump();
            if (self->wants_input()) self->resume_reading();
        });
    });
}

void TranscribeSession::on_eof(Clock::time_point at) {
    ensure_stream(at);
    state_ = State::ended;
    waiting_.push_back(Waiting{{}, at, true});
    pump();
}

void TranscribeSession::post_eof(Clock::time_point at) {
    auto self = std::static_pointer_cast<TranscribeSession>(shared_from_this());
    if (save_) srv_.save_started();
    srv_.lane(lane_).post([self, stream = stream_, at, saving = save_.has_value()](Lane& lane) {
        std::string reply;
        std::optional<SavedStream> saved;
        auto failed = run_guarded([&] {
            reply = stream->finish(lane);
            if (saving) saved = stream->commit_audio();
        });
        if (failed) stream->abandon(lane);
        self->srv_.on_io([self, reply = std::move(reply), failed, at] {
            self->on_lane_ = false;
            if (failed) return self->fail(failed->refused, failed->reason, failed->detail);
            self->replied(reply, at, true);
        });
        if (!saving) return;
        if (!saved) {
            self->srv_.on_io([self] { self->saved("", ""); });
            return;
        }
        self->srv_.db().post([self, saved = std::move(*saved)](db::Db& db) {
            std::string id, err;
            try {
                id = store_saved_stream(db, saved);
            } catch (const std::exception& e) {
                err = e.what();
            }
            self->srv_.on_io([self, id, err] { self->saved(id, err); });
        });
    });
}
// The client gets a fixed text (and the request id to quote); the log gets what failed.
void TranscribeSession::fail(bool refused, const std::string& reason, const std::string& detail) {
    if (refused) {
        core::log_warn("live: stream refused (request " + who().request_id + "): " + detail);
        return close(websocket::close_code::unknown_data, reason);
    }
    core::log_error("live: stream failed (request " + who().request_id + "): " + detail);
    close(websocket::close_code::internal_error, with_request_id(reason, who()));
}

void TranscribeSession::replied(const std::string& reply, Clock::time_point at, bool final) {
    double latency = std::chrono::duration<double>(Clock::now() - at).count();
    if (final) {
        srv_.metrics().final_latency.observe(latency);
    } else {
        srv_.metrics().partial_latency.observe(latency);
        srv_.metrics().frames_total.fetch_add(1);
    }
    send(reply);
    if (final) {
        end_stream();
        if (!save_) close(websocket::close_code::normal, "");
    }
}

void TranscribeSession::saved(const std::string& session_id, const std::string& error) {
    srv_.save_done();
    if (!error.empty()) {
        core::log_error("live: saving a stream failed (request " + who().request_id +
                        "): " + error);
        return close(websocket::close_code::internal_error,
                     with_request_id("the stream could not be saved", who()));
    }
    if (!session_id.empty()) {
        srv_.metrics().sessions_saved.fetch_add(1);
        core::JsonWriter w;
        w.begin_object().field("session_id", session_id).end_object();
        send(w.take());
    }
    close(websocket::close_code::normal, "");
}

void TranscribeSession::on_gone() {
    if (!stream_ || eof_posted_) return;  // the eof's task finishes (and saves) the stream
    // Dropped (or closed) mid-stream: the decoder goes back; with save=1 what was received is
    // kept, frames that never reached the lane included.
    state_ = State::ended;
    end_stream();
    std::vector<std::vector<int16_t>> unheard;
    for (auto& w : waiting_)
        if (!w.eof) unheard.push_back(std::move(w.pcm));
    waiting_.clear();
    bool saving = save_.has_value();
    if (saving) srv_.save_started();
    Server* srv = &srv_;
    std::string rid = who().request_id;
    srv_.lane(lane_).post(
        [srv, stream = stream_, saving, rid, unheard = std::move(unheard)](Lane& lane) {
            std::optional<SavedStream> saved;
            try {
                if (saving)
                    for (const auto& pcm : unheard) stream->record(lane, pcm);
                stream->abandon(lane);
                if (saving) saved = stream->commit_audio();
            } catch (const std::exception& e) {
                core::log_error("live: keeping a dropped stream failed (request " + rid +
                                "): " + e.what());
            }
            if (!saving) return;
            if (!saved) return srv->on_io([srv] { srv->save_done(); });
            srv->db().post([srv, rid, saved = std::move(*saved)](db::Db& db) {
                try {
                    store_saved_stream(db, saved);
                    srv->metrics().sessions_saved.fetch_add(1);
                } catch (const std::exception& e) {
                    core::log_error("live: saving a dropped stream failed (request " + rid +
                                    "): " + e.what());
                }
                srv->on_io([srv] { srv->save_done(); });
            });
        });
}

}  // namespace live
