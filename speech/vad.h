// Energy voice activity detection: cuts long audio into utterances at pauses (private to speech/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace speech {

struct VadParams {
    int sample_rate = 16000;
    double min_pause_s = 0.3;     // a quiet stretch at least this long ends an utterance
    double max_utterance_s = 30;  // forced cut so decoder memory stays flat
    double pad_s = 0.2;           // quiet kept on each side: the decoder wants some silence
    double min_speech_s = 0.1;    // shorter bursts (clicks) are not decoded
    double min_utterance_s = 0;   // shorter utterances only end at a long pause...
    double long_pause_s = 1.0;    // ...this long
    double on_db = 15;            // speech starts this far above the noise floor...
    double off_db = 12;           // ...and a pause stays this close to it
    double floor_window_s = 3;    // noise floor = quietest 50 ms within ±half this window...
    double lookahead_s = 0;       // ...or, when > 0, from half of it back to this far ahead
    double min_floor_db = 20;     // digital silence must not make every hiss look like speech
};

// Samples [begin, end) of the whole input.
struct Span {
    size_t begin = 0;
    size_t end = 0;
};

// Streaming: push samples in any chunk size, collect finished utterances. Decisions lag the
// input by half the floor window, or by lookahead_s (the floor needs some audio after the
// frame too, or speech at the very start would raise it; live streams trade that case for
// answering sooner). Memory is bounded by max_utterance_s of frame energies
// whatever the input length.
class Vad {
  public:
    explicit Vad(const VadParams& params = {});

    // Appends the utterances that ended within these samples to `out`.
    void push(const int16_t* samples, size_t n, std::vector<Span>& out);
    // End of input: decides the remaining frames and closes the utterance in progress.
    void finish(std::vector<Span>& out);

  private:
    struct Frame {
        size_t index;
        double db;  // smoothed over 50 ms
    };
    void add_frame(double energy_db, std::vector<Span>& out);
    void decide_next(std::vector<Span>& out);
    void decide(const Frame& f, double floor_db, std::vector<Span>& out);
    void end_utterance(size_t end_frame, bool pad_end, std::vector<Span>& out);
    void force_cut(std::vector<Span>& out);

    VadParams p_;
    size_t frame_len_;
    size_t pause_frames_, long_pause_frames_, min_utt_frames_, max_frames_, pad_frames_,
        min_speech_frames_, half_window_, lookahead_;

    std::vector<int16_t> partial_;  // samples of an incomplete frame
    size_t n_samples_ = 0;          // samples pushed so far
    size_t n_frames_ = 0;           // complete frames seen
    std::deque<double> recent_;     // last raw energies, for smoothing
    std::deque<Frame> pending_;     // frames waiting for their lookahead
    std::deque<Frame> floor_q_;     // sliding minimum over the window (monotonic queue)

    bool in_speech_ = false;
    bool cut_start_ = false;          // utterance began at a forced cut: no padding before it
    size_t speech_start_ = 0;         // first frame of the utterance
    size_t quiet_run_ = 0;            // consecutive quiet frames inside speech
    size_t prev_end_ = 0;             // frame where the previous utterance stopped
    std::vector<double> utt_energy_;  // energies since speech_start_, for forced cuts
};

}  // namespace speech
