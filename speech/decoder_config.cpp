// pocketsphinx's configuration for both recognizers (speech/decoder_config.h).
#include "speech/decoder_config.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <sphinxbase/err.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include "speech/fillers.h"

namespace speech {

namespace fs = std::filesystem;

std::optional<ModelFiles> find_model(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return std::nullopt;
    const std::string name = dir.filename().string();
    ModelFiles m;
    if (fs::exists(dir / name / "mdef", ec)) m.hmm = (dir / name).string();
    if (fs::exists(dir / (name + ".lm.bin"), ec)) m.lm = (dir / (name + ".lm.bin")).string();
    if (fs::exists(dir / ("cmudict-" + name + ".dict"), ec)) {
        m.dict = (dir / ("cmudict-" + name + ".dict")).string();
    }
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string file = e.path().filename().string();
        if (m.hmm.empty() && e.is_directory() && fs::exists(e.path() / "mdef", ec)) {
            m.hmm = e.path().string();
        } else if (m.lm.empty() && file.find("phone") == std::string::npos &&
                   (file.ends_with(".lm.bin") || file.ends_with(".lm") ||
                    file.ends_with(".arpa"))) {
            m.lm = e.path().string();
        } else if (m.dict.empty() && file.ends_with(".dict")) {
            m.dict = e.path().string();
        }
    }
    if (m.hmm.empty() || m.lm.empty() || m.dict.empty()) return std::nullopt;
    return m;
}

namespace {

// The library logs to stderr by default, a lot. Its log file handle is process-wide and
// -logfn swaps (and fcloses) it on every ps_init, which races when decoders are created on
// several threads; a no-op callback set once avoids both the noise and the race.
void discard_log(void*, err_lvl_t, const char*, ...) {}

void quiet_library_log() {
    static std::once_flag once;
    std::call_once(once, [] {
        err_set_logfp(nullptr);  // ps_init prints its whole configuration straight to it
        err_set_callback(discard_log, nullptr);
    });
}

}  // namespace

Decoder::Decoder(const DecoderSetup& setup) {
    const auto model = find_model(setup.model_dir);
    if (!model) throw std::runtime_error("no pocketsphinx model in " + setup.model_dir);
    quiet_library_log();
    // No -lm here: the language model is set below, after the filler words joined the
    // dictionary. -remove_silence no: our VAD already cut the silences, and the library's own
    // would drop frames and shift every word time.
    config_.reset(cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", model->hmm.c_str(), "-dict",
                              model->dict.c_str(), "-remove_silence", "no", nullptr));
    if (!config_) throw std::runtime_error("pocketsphinx rejected its configuration");
    if (!setup.fwdflat) cmd_ln_set_boolean_r(config_.get(), "-fwdflat", FALSE);
    if (setup.max_hmms) cmd_ln_set_int_r(config_.get(), "-maxhmmpf", *setup.max_hmms);
    ps_.reset(ps_init(config_.get()));
    if (!ps_) throw std::runtime_error("pocketsphinx could not load " + setup.model_dir);
    // Before any other search exists (see fillers.h): the stock LM, interpolated with the
    // filler words' own model when filler detection is on.
    fillers::use_language_model(ps_.get(), config_.get(), model->lm, setup.detect_fillers,
                                setup.lm_search);
    engine_ = "pocketsphinx-5prealpha " + fs::path(setup.model_dir).filename().string();
}

std::string clean_token(const char* raw) {
    std::string w(raw);
    if (const auto paren = w.find('('); paren != std::string::npos && paren > 0) w.resize(paren);
    std::transform(w.begin(), w.end(), w.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return w;
}

}  // namespace speech
