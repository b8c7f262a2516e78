// Energy voice activity detection with an adaptive noise floor and a pause hangover.
#include "speech/vad.h"

#include <algorithm>
#include <cmath>

namespace speech {

namespace {

constexpr size_t kSmoothFrames = 5;      // 50 ms
constexpr double kDigitalSilenceDb = 6;  // RMS below 2 on the 16-bit scale

size_t frames_of(double seconds, size_t frames_per_s) {
    return static_cast<size_t>(std::lround(seconds * static_cast<double>(frames_per_s)));
}

double energy_db(const int16_t* s, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<double>(s[i]) * s[i];
    return 10.0 * std::log10(sum / static_cast<double>(n) + 1.0);
}

}  // namespace

Vad::Vad(const VadParams& params) : p_(params) {
    const size_t fps = 100;  // 10 ms frames, the decoder's own frame rate
    frame_len_ = static_cast<size_t>(p_.sample_rate) / fps;
    pause_frames_ = std::max<size_t>(1, frames_of(p_.min_pause_s, fps));
    long_pause_frames_ = std::max(pause_frames_, frames_of(p_.long_pause_s, fps));
    min_utt_frames_ = frames_of(p_.min_utterance_s, fps);
    max_frames_ = std::max<size_t>(pause_frames_ * 2, frames_of(p_.max_utterance_s, fps));
    // Padding must fit inside the pause that ended the utterance, or it would reach audio
    // that has not been seen yet.
    pad_frames_ = std::min(frames_of(p_.pad_s, fps), pause_frames_);
    min_speech_frames_ = frames_of(p_.min_speech_s, fps);
    half_window_ = std::max<size_t>(1, frames_of(p_.floor_window_s / 2, fps));
    lookahead_ =
        p_.lookahead_s > 0 ? std::max<size_t>(1, frames_of(p_.lookahead_s, fps)) : half_window_;
    partial_.reserve(frame_len_);
}

void Vad::push(const int16_t* samples, size_t n, std::vector<Span>& out) {
    n_samples_ += n;
    while (n > 0) {
        const size_t take = std::min(n, frame_len_ - partial_.size());
        partial_.insert(partial_.end(), samples, samples + take);
        samples += take;
        n -= take;
        if (partial_.size() == frame_len_) {
            add_frame(energy_db(partial_.data(), frame_len_), out);
            partial_.clear();
        }
    }
}

void Vad::add_frame(double db, std::vector<Span>& out) {
    // Digital silence (zeroed frames, as edited recordings have between sentences) says
    // nothing about the noise floor: left in, it would drag the floor to 0 dB and make the
    // hiss around it look like speech. It still counts as quiet.
    const bool digital = db < kDigitalSilenceDb;
    if (!digital) {
        recent_.push_back(db);
        if (recent_.size() > kSmoothFrames) recent_.pop_front();
    }
    double sum = 0;
    for (double e : recent_) sum += e;
    const double smooth = recent_.empty() ? 0.0 : sum / static_cast<double>(recent_.size());
    const Frame f{n_frames_++, digital ? db : smooth};

    if (!digital) {
        while (!floor_q_.empty() && floor_q_.back().db >= f.db) floor_q_.pop_back();
        floor_q_.push_back(f);
    }
    pending_.push_back(f);
    if (f.index < lookahead_) return;

    decide_next(out);
}

// Decides the oldest pending frame against the quietest frame around it (the queue holds
// frames up to lookahead_ ahead of it; those more than half a window behind it leave).
void Vad::decide_next(std::vector<Span>& out) {
    const Frame now = pending_.front();
    pending_.pop_front();
    while (!floor_q_.empty() && floor_q_.front().index + half_window_ < now.index) {
        floor_q_.pop_front();
    }
    decide(now, floor_q_.empty() ? 0.0 : floor_q_.front().db, out);
}

void Vad::finish(std::vector<Span>& out) {
    while (!pending_.empty()) decide_next(out);
    if (in_speech_) end_utterance(n_frames_ - std::min(quiet_run_, n_frames_), true, out);
}

void Vad::decide(const Frame& f, double floor_db, std::vector<Span>& out) {
    floor_db = std::max(floor_db, p_.min_floor_db);
    if (!in_speech_) {
        if (f.db <= floor_db + p_.on_db) return;
        in_speech_ = true;
        cut_start_ = false;
        // The smoothed energy lags the onset by up to the smoothing length.
        speech_start_ = std::max(prev_end_, f.index - std::min(f.index, kSmoothFrames - 1));
        quiet_run_ = 0;
        utt_energy_.assign(f.index - speech_start_, f.db);
    }
    utt_energy_.push_back(f.db);
    quiet_run_ = f.db < floor_db + p_.off_db ? quiet_run_ + 1 : 0;
    const size_t quiet_start = f.index + 1 - quiet_run_;
    const size_t needed =
        quiet_start - speech_start_ >= min_utt_frames_ ? pause_frames_ : long_pause_frames_;
    if (quiet_run_ >= needed) {
        end_utterance(f.index + 1 - quiet_run_, true, out);
    } else if (f.index + 1 - speech_start_ >= max_frames_) {
        force_cut(out);
    }
}

// Closes the utterance at end_frame (exclusive) and pads it with the quiet around it.
void Vad::end_utterance(size_t end_frame, bool pad_end, std::vector<Span>& out) {
    in_speech_ = false;
    if (end_frame < speech_start_ + min_speech_frames_) return;  // a click: not decoded
    const size_t begin =
        cut_start_ ? speech_start_
                   : std::max(prev_end_, speech_start_ - std::min(speech_start_, pad_frames_));
    const size_t end = pad_end ? end_frame + pad_frames_ : end_frame;
    prev_end_ = end;
    out.push_back({begin * frame_len_, std::min(end * frame_len_, n_samples_)});
}

// A long stretch without a pause: cut at its quietest moment in the last 40% so that words
// are split as rarely as possible, and go on with the rest as a new utterance.
void Vad::force_cut(std::vector<Span>& out) {
    const size_t from = utt_energy_.size() * 6 / 10;
    const auto quietest =
        std::min_element(utt_energy_.begin() + static_cast<long>(from), utt_energy_.end());
    const size_t offset = static_cast<size_t>(quietest - utt_energy_.begin());
    const size_t cut = speech_start_ + std::max<size_t>(offset, 1);
    end_utterance(cut, false, out);
    utt_energy_.erase(utt_energy_.begin(),
                      utt_energy_.begin() + static_cast<long>(cut - speech_start_));
    in_speech_ = true;
    cut_start_ = true;
    speech_start_ = cut;
    quiet_run_ = 0;
}

}  // namespace speech
