// pocketsphinx behind speech::Recognizer: the utterance loop over VAD spans (the decoder's
// setup is speech/decoder_config.cpp, shared with the live recognizer).
#include "speech/recognizer.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "speech/decoder_config.h"
#include "speech/fillers.h"
#include "speech/vad.h"

namespace speech {

namespace {

constexpr double kFrameS = 0.01;  // the en-us model's 100 frames per second
constexpr size_t kChunk = 8000;   // samples handed to the VAD at a time (0.5 s)

// Utterances are decoded in groups of VAD spans up to this long: long enough for the
// decoder's cepstral mean normalisation to settle, short enough for flat memory.
constexpr size_t kMaxGroupSamples = 25 * 16000;

}  // namespace

struct Recognizer::Impl {
    Decoder decoder;
    bool fillers_on = false;
    fillers::Rules rules;
    VadParams vad_params;

    explicit Impl(const RecognizerConfig& cfg)
        : decoder(setup(cfg)), fillers_on(cfg.detect_fillers) {}
    static DecoderSetup setup(const RecognizerConfig& cfg) {
        DecoderSetup s;
        s.model_dir = cfg.model_dir;
        s.detect_fillers = cfg.detect_fillers;
        return s;  // search width and second pass: pocketsphinx's defaults
    }
    void decode(const int16_t* samples, const std::vector<Span>& group, std::vector<Word>& out);
    std::vector<int16_t> buffer;  // the spans of one utterance, end to end
};

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
    ps_decoder_t* d = decoder.get();
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
    t.engine = impl_->decoder.engine();
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
