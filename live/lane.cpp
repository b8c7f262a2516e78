// Decoding and recording one stream on its lane.
#include "live/lane.h"

#include <algorithm>
#include <stdexcept>

#include "core/temp_file.h"
#include "speech/languages.h"

namespace live {

std::unique_ptr<speech::StreamDecoder> Lane::take(const std::string& language) {
    auto& waiting = idle[language];
    if (waiting.empty()) {
        idle.erase(language);
        speech::RecognizerConfig rc = recognizer;
        auto dir = speech::installed_model_dir(model_root, language);
        if (!dir) throw std::runtime_error("language " + language + " is not installed");
        rc.model_dir = *dir;
        return std::make_unique<speech::StreamDecoder>(rc);
    }
    auto d = std::move(waiting.back());
    waiting.pop_back();
    return d;
}

void Lane::give_back(const std::string& language, std::unique_ptr<speech::StreamDecoder> d) {
    if (!d) return;
    if (!idle.contains(language) && idle.size() >= kIdleLanguages) {
        auto drop = std::find_if(idle.begin(), idle.end(),
                                 [](const auto& e) { return e.first != speech::kDefaultLanguage; });
        if (drop != idle.end()) idle.erase(drop);
    }
    idle[language].push_back(std::move(d));
}

// 100 ms of audio costs 15-25 ms of one core: the most a frame waits for idle work.
constexpr double kCatchUpSliceS = 0.1;

bool Lane::work_when_idle() {
    for (size_t tried = 0; tried < streams.size();) {
        if (next_stream >= streams.size()) next_stream = 0;
        const std::shared_ptr<LiveStream> s = streams[next_stream].lock();
        if (!s || s->finished()) {
            streams.erase(streams.begin() + static_cast<std::ptrdiff_t>(next_stream));
            continue;
        }
        ++next_stream;
        ++tried;
        if (s->catch_up()) return true;
    }
    return false;
}

LiveStream::LiveStream(speech::StreamOptions opt, std::string language,
                       std::optional<SaveTarget> save)
    : opt_(std::move(opt)), language_(std::move(language)), save_(std::move(save)) {}

void LiveStream::begin(Lane& lane) {
    decoder_ = lane.take(language_);
    engine_ = decoder_->engine();
    try {
        decoder_->begin(opt_);
    } catch (...) {
        lane.give_back(language_, std::move(decoder_));
        throw;
    }
    if (save_) wav_ = std::make_unique<WavWriter>(save_->audio_dir + "/tmp", opt_.sample_rate);
    lane.streams.push_back(weak_from_this());
}

bool LiveStream::catch_up() {
    return decoder_ && !finished_ && decoder_->catch_up(kCatchUpSliceS);
}

void LiveStream::collect(const speech::StreamUpdate& u) {
    if (!u.final) return;
    if (!u.text.empty()) text_ += (text_.empty() ? "" : " ") + u.text;
    words_.insert(words_.end(), u.words.begin(), u.words.end());
}

void LiveStream::record(Lane& lane, std::span<const int16_t> pcm) {
    if (finished_) return;
    if (!decoder_) begin(lane);
    if (wav_) wav_->append(pcm);
}

std::optional<std::string> LiveStream::accept_slice(Lane& lane, std::span<const int16_t> pcm,
                                                    bool last) {
    if (!decoder_) begin(lane);
    if (wav_) wav_->append(pcm);
    speech::StreamUpdate u = decoder_->accept(pcm);
    collect(u);
    if (u.final) {
        frame_result_.final = true;
        if (!u.text.empty()) frame_result_.text += (frame_result_.text.empty() ? "" : " ") + u.text;
        frame_result_.words.insert(frame_result_.words.end(), u.words.begin(), u.words.end());
    }
    if (!last) return std::nullopt;
    std::string reply = speech::to_vosk_json(frame_result_.final ? frame_result_ : u, opt_);
    frame_result_ = {};
    return reply;
}

std::string LiveStream::finish(Lane& lane) {
    if (!decoder_) begin(lane);
    speech::StreamUpdate u = decoder_->finish();
    u.final = true;
    collect(u);
    lane.give_back(language_, std::move(decoder_));
    finished_ = true;
    return speech::to_vosk_json(u, opt_);
}

void LiveStream::abandon(Lane& lane) {
    if (decoder_ && !finished_) {
        try {
            collect(decoder_->finish());  // words of the last utterance are kept too
        } catch (...) {
            // a failing decoder still goes back; the audio is what matters
        }
    }
    lane.give_back(language_, std::move(decoder_));
    finished_ = true;
}

std::optional<SavedStream> LiveStream::commit_audio() {
    if (!save_ || !wav_ || wav_->seconds() <= 0) return std::nullopt;
    SavedStream s;
    s.target = *save_;
    s.session_id = core::new_uuid();
    s.language = language_;
    s.engine = engine_;
    s.audio_path = s.session_id + ".wav";
    s.audio_bytes = wav_->bytes();
    s.duration_s = wav_->seconds();
    s.text = text_;
    s.words = words_;
    wav_->commit_to(save_->audio_dir + "/" + s.audio_path);
    wav_.reset();
    return s;
}

}  // namespace live
