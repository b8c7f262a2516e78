// pocketsphinx behind speech::Recognizer: model discovery, decoder setup, utterance loop.
#include "speech/recognizer.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/c_handles.h"
#include "speech/fillers.h"
#include "speech/vad.h"

using CmdLnPtr = std::unique_ptr<cmd_ln_t, core::CDeleter<cmd_ln_free_r>>;
using PsDecoderPtr = std::unique_ptr<ps_decoder_t, core::CDeleter<ps_free>>;

namespace speech {

namespace {

namespace fs = std::filesystem;

constexpr double kFrameS = 0.01;  // the en-us model's 100 frames per second
constexpr size_t kChunk = 8000;   // samples handed to the VAD at a time (0.5 s)

// Utterances are decoded in groups of VAD spans up to this long: long enough for the
// decoder's cepstral mean normalisation to settle, short enough for flat memory.
constexpr size_t kMaxGroupSamples = 25 * 16000;

struct ModelFiles {
    std::string hmm, lm, dict;
};

// The Debian layout: <dir>/<name>/ (acoustic model), <dir>/<name>.lm.bin, <dir>/cmudict-<name>
// .dict; other layouts are found by looking for an mdef, a word LM and a dictionary.
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

// "word(2)" -> "word", lower case.
std::string clean_token(const char* raw) {
    std::string w(raw);
    if (const auto paren = w.find('('); paren != std::string::npos && paren > 0) w.resize(paren);
    std::transform(w.begin(), w.end(), w.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return w;
}

}  // namespace

std::vector<std::string> installed_languages(const std::string& model_root) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(model_root, ec)) {
        if (find_model(e.path())) out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct Recognizer::Impl {
    // Declared before the decoder so that the decoder is destroyed first.
    CmdLnPtr config;
    PsDecoderPtr ps;
    bool fillers_on = false;
    std::string engine;
    fillers::Rules rules;
    VadParams vad_params;

    explicit Impl(const RecognizerConfig& cfg);
    void decode(const int16_t* samples, const std::vector<Span>& group, std::vector<Word>& out);
    std::vector<int16_t> buffer;  // the spans of one utterance, end to end
};

Recognizer::Impl::Impl(const RecognizerConfig& cfg) {
    const auto model = find_model(cfg.model_dir);
    if (!model) throw std::runtime_error("no pocketsphinx model in " + cfg.model_dir);
    quiet_library_log();
    // No -lm here: the language model is set below, after the filler words joined the
    // dictionary. -remove_silence no: our VAD already cut the silences, and the library's own
    // would drop frames and shift every word time.
    config.reset(cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", model->hmm.c_str(), "-dict",
                             model->dict.c_str(), "-remove_silence", "no", nullptr));
    if (!config) throw std::runtime_error("pocketsphinx rejected its configuration");
    ps.reset(ps_init(config.get()));
    if (!ps) throw std::runtime_error("pocketsphinx could not load " + cfg.model_dir);
    fillers_on = cfg.detect_fillers;
    fillers::use_language_model(ps.get(), config.get(), model->lm, fillers_on, "ngram");
    engine = "pocketsphinx-5prealpha " + fs::path(cfg.model_dir).filename().string();
}

// Decodes the spans of one utterance as one buffer: the pauses between them shortened to the
// VAD's padding, as -remove_silence would, but with a map back to the original times.
namespace {

// Seconds into the utterance buffer -> seconds into the input.
double original_time(double t, const std::vector<Span>& group, bool is_end) {
    double at = 0;
    for (const Span& s : group) {
        const double len = static_cast<double>(s.end - s.begin) / 16000.0;
        if (t < at + len || (is_end && t <= at + len) || &s == &group.back()) {
            return static_cast<double>(s.begin) / 16000.0 + std::min(t - at, len);
        }
        at += len;
    }
    return 0;
}

}  // namespace

void Recognizer::Impl::decode(const int16_t* samples, const std::vector<Span>& group,
                              std::vector<Word>& out) {
    ps_decoder_t* d = ps.get();
    buffer.clear();
    for (const Span& s : group) buffer.insert(buffer.end(), samples + s.begin, samples + s.end);
    // A new stream per utterance: frame numbers restart at 0.
    ps_start_stream(d);
    if (ps_start_utt(d) < 0) throw std::runtime_error("pocketsphinx: cannot start utterance");
    // One whole buffer with full_utt: cepstral mean normalisation over the utterance (the
    // model's -cmn batch), the most accurate mode measured.
    ps_process_raw(d, buffer.data(), buffer.size(), FALSE, TRUE);
    ps_end_utt(d);
    std::vector<Word> words;
    for (ps_seg_t* seg = ps_seg_iter(d); seg; seg = ps_seg_next(seg)) {
        int sf = 0, ef = 0;
        ps_seg_frames(seg, &sf, &ef);
        int32 ascr = 0, lscr = 0, lback = 0;
        const int32 post = ps_seg_prob(seg, &ascr, &lscr, &lback);
        fillers::Decoded dw;
        dw.token = clean_token(ps_seg_word(seg));
        dw.duration_s = (ef + 1 - sf) * kFrameS;
        dw.confidence = std::clamp(logmath_exp(ps_get_logmath(d), post), 0.0, 1.0);
        const size_t b = std::min(buffer.size(), static_cast<size_t>(sf) * 160);
        const size_t e = std::min(buffer.size(), static_cast<size_t>(ef + 1) * 160);
        dw.samples = {buffer.data() + b, e - b};
        const auto kind = fillers::classify(rules, dw, fillers_on);
        if (!kind) continue;
        Word w;
        w.word = kind->spelling;
        w.filler = kind->filler;
        w.start_s = original_time(sf * kFrameS, group, false);
        w.end_s = original_time((ef + 1) * kFrameS, group, true);
        w.confidence = dw.confidence;
        words.push_back(std::move(w));
    }
    fillers::merge_adjacent(words);
    out.insert(out.end(), words.begin(), words.end());
}

Recognizer::Recognizer(const RecognizerConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}

Recognizer::~Recognizer() = default;

Transcript Recognizer::transcribe(const int16_t* samples, size_t n, const ProgressFn& progress) {
    Transcript t;
    t.engine = impl_->engine;
    Vad vad(impl_->vad_params);
    std::vector<Span> spans, group;
    size_t group_len = 0;
    auto flush = [&] {
        if (group.empty()) return;
        impl_->decode(samples, group, t.words);
        if (progress) progress(static_cast<double>(group.back().end) / static_cast<double>(n));
        group.clear();
        group_len = 0;
    };
    for (size_t at = 0; at < n || at == 0; at += kChunk) {
        const size_t len = std::min(kChunk, n - at);
        vad.push(samples + at, len, spans);
        if (at + len >= n) vad.finish(spans);
        for (const Span& s : spans) {
            if (group_len + (s.end - s.begin) > kMaxGroupSamples) flush();
            group.push_back(s);
            group_len += s.end - s.begin;
        }
        spans.clear();
        if (n == 0) break;
    }
    flush();
    for (const Word& w : t.words) {
        if (!t.text.empty()) t.text += ' ';
        t.text += w.word;
    }
    if (progress) progress(1.0);
    return t;
}

}  // namespace speech
