// The one pocketsphinx decoder setup of the recorded (speech/recognizer.cpp) and the live
// (speech/stream.cpp) recognizers: model discovery, the configuration, the filler words and
// the language model search. Private to speech/.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <pocketsphinx.h>
#pragma GCC diagnostic pop

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/c_handles.h"

namespace speech {

using CmdLnPtr = std::unique_ptr<cmd_ln_t, core::CDeleter<cmd_ln_free_r>>;
using PsDecoderPtr = std::unique_ptr<ps_decoder_t, core::CDeleter<ps_free>>;

struct ModelFiles {
    std::string hmm, lm, dict;
};

// The Debian layout: <dir>/<name>/ (acoustic model), <dir>/<name>.lm.bin, <dir>/cmudict-<name>
// .dict; other layouts are found by looking for an mdef, a word LM and a dictionary.
std::optional<ModelFiles> find_model(const std::filesystem::path& dir);

struct DecoderSetup {
    std::string model_dir;
    bool detect_fillers = true;  // the filler words join the dictionary and the LM
    const char* lm_search = "ngram";
    // Live streams only: no second (flat) pass, and at most this many HMMs active per frame
    // (speech/stream.cpp says why). Unset: pocketsphinx's defaults, as the recorded pipeline.
    bool fwdflat = true;
    std::optional<int> max_hmms;
};

// A loaded model: the configuration and the decoder built from it, the language model search
// made current. Throws std::runtime_error when the model cannot be found or loaded.
class Decoder {
  public:
    explicit Decoder(const DecoderSetup& setup);

    ps_decoder_t* get() const { return ps_.get(); }
    // "pocketsphinx-5prealpha <model directory's name>", the transcripts' engine.
    const std::string& engine() const { return engine_; }

  private:
    // Declared before the decoder so that the decoder is destroyed first.
    CmdLnPtr config_;
    PsDecoderPtr ps_;
    std::string engine_;
};

// "word(2)" -> "word", lower case.
std::string clean_token(const char* raw);

}  // namespace speech
