// The recognizer: pocketsphinx (0.8+5prealpha, cmd_ln_t API) with the Debian en-us model.
// Long audio is cut at silences (voice activity detection) so memory stays flat and word
// times stay absolute; fillers are found by a step of our own (stock pocketsphinx recovers
// almost none). One Recognizer per thread; never shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "speech/transcript.h"

namespace speech {

struct RecognizerConfig {
    std::string model_dir = "/usr/share/pocketsphinx/model/en-us";
    bool detect_fillers = true;
    // Live streams only (StreamDecoder): at most this many HMMs active per frame. The recorded
    // pipeline keeps pocketsphinx's 30000; see speech/stream.cpp for the measured trade.
    int stream_max_hmms = 3000;
};

// Fraction of the audio done, 0..1; called from the decoding thread.
using ProgressFn = std::function<void(double)>;

class Recognizer {
  public:
    explicit Recognizer(const RecognizerConfig& cfg);
    ~Recognizer();
    Recognizer(const Recognizer&) = delete;
    Recognizer& operator=(const Recognizer&) = delete;

    // 16 kHz mono 16-bit samples in; words with absolute times out.
    Transcript transcribe(const int16_t* samples, size_t n, const ProgressFn& progress = {});

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace speech
