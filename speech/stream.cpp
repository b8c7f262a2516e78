// Streaming recognition: libsoxr to 16 kHz, the recorded pipeline's VAD for utterance ends, and
// one pocketsphinx utterance decoded live (block by block) so partials cost only the new audio.
#include "speech/stream.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <sphinxbase/ckd_alloc.h>
#pragma GCC diagnostic pop
#include <soxr.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "core/c_handles.h"
#include "speech/decoder_config.h"
#include "speech/fillers.h"
#include "speech/vad.h"

namespace speech {

namespace {

using SoxrPtr = std::unique_ptr<std::remove_pointer_t<soxr_t>, core::CDeleter<soxr_delete>>;

void free_ckd(char* p) {
    ckd_free(p);
}
using CkdStringPtr = std::unique_ptr<char, core::CDeleter<free_ckd>>;

constexpr int kRate = 16000;
constexpr int kMinRate = 8000;
constexpr int kMaxRate = 48000;
constexpr size_t kFrameSamples = 160;  // the en-us model's 10 ms frames
constexpr double kFrameS = 0.01;
constexpr const char* kLmSearch = "ngram";
constexpr const char* kPhraseSearch = "phrases";

// Live decoding keeps the whole utterance in pocketsphinx; while it hears only silence the
// utterance is restarted now and then (keeping the newest audio, where speech may be starting)
// so that its memory and the final search over it stay small.
constexpr double kSilentRestartS = 4.0;
constexpr double kSilentKeepS = 1.0;
// After an utterance's end, the next one starts this long before the first word the decoder
// heard after the cut, or (no word) this long before the newest audio.
constexpr double kLeadInS = 0.1;
constexpr double kQuietKeepS = 0.5;
constexpr double kMaxBacklogS = 3.0;
// The VAD's lookahead for live streams (the recorded pipeline's is 1.5 s). Everything the
// decoder heard after an utterance's end is decoded again as the next one's start, so this
// lag is paid in CPU at every pause, and it is how late a final comes: 0.5 s is still ten
// 50 ms smoothing lengths for the noise floor to see the quiet after a word.
constexpr double kVadLookaheadS = 0.5;

// Streaming int16 -> int16 resampler to 16 kHz. soxr keeps its filter state between calls,
// so frame boundaries leave no seams; drain() returns what its delay line still holds.
class Resampler {
  public:
    explicit Resampler(int rate) : ratio_(static_cast<double>(kRate) / rate) {
        soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
        io.flags |= SOXR_NO_DITHER;  // deterministic, like speech/audio_pipeline.cpp
        soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
        soxr_runtime_spec_t runtime = soxr_runtime_spec(1);  // decoder threads are the pool
        soxr_error_t err = nullptr;
        soxr_.reset(soxr_create(rate, kRate, 1, &err, &io, &quality, &runtime));
        if (err || !soxr_) {
            throw std::runtime_error(std::string("soxr_create: ") + (err ? err : "failed"));
        }
    }

    void push(std::span<const int16_t> in, std::vector<int16_t>& out) {
        size_t done = 0;
        while (done < in.size()) {
            size_t used = 0;
            const size_t made = process(in.data() + done, in.size() - done, &used, out);
            done += used;
            if (used == 0 && made == 0) break;
        }
    }

    void drain(std::vector<int16_t>& out) {
        while (process(nullptr, 0, nullptr, out) > 0) {
        }
    }

  private:
    size_t process(const int16_t* in, size_t n, size_t* used, std::vector<int16_t>& out) {
        const size_t at = out.size();
        out.resize(at + static_cast<size_t>(static_cast<double>(n) * ratio_) + 256);
        size_t made = 0;
        const soxr_error_t err =
            soxr_process(soxr_.get(), in, n, used, out.data() + at, out.size() - at, &made);
        out.resize(at + made);
        if (err) throw std::runtime_error(std::string("soxr_process: ") + err);
        return made;
    }

    double ratio_;
    SoxrPtr soxr_;
};

bool is_silence_token(const std::string& t) {
    return t.empty() || t.front() == '<' || t.front() == '[';
}

// The grammar (phrase_list) search puts its null transitions on the best path as segments
// without a word, spelled "(NULL)": they are not words.
bool is_null_transition(const char* word) {
    return word == nullptr || clean_token(word) == "(null)";
}

// What a partial shows: words and spelled-out fillers, no silence or noise markers.
std::string partial_text(const char* hyp) {
    std::string text;
    std::istringstream in(hyp ? hyp : "");
    std::string raw;
    while (in >> raw) {
        const std::string token = clean_token(raw.c_str());
        if (is_silence_token(token)) continue;
        const auto filler = fillers::canonical(token);
        if (!text.empty()) text += ' ';
        text += filler ? std::string(*filler) : token;
    }
    return text;
}

// A phrase_list word must be a plain dictionary word: anything else could break the JSGF
// grammar ("a(2)", "x | y") or is not in the dictionary anyway.
bool plain_word(const std::string& w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '\'' || c == '-' || c == '.' || c == '_';
    });
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string join_words(const std::vector<Word>& words) {
    std::string text;
    for (const Word& w : words) {
        if (!text.empty()) text += ' ';
        text += w.word;
    }
    return text;
}

}  // namespace

struct StreamDecoder::Impl {
    Decoder decoder;
    bool fillers_on = false;
    fillers::Rules rules;
    VadParams vad_params;

    // The stream in progress.
    bool started = false;
    bool in_utt = false;
    StreamOptions opt;
    std::optional<Resampler> resampler;
    std::optional<Vad> vad;
    std::vector<int16_t> utt;      // 16 kHz samples fed to the current pocketsphinx utterance
    size_t utt_start = 0;          // stream sample index of utt[0]
    size_t emitted_until = 0;      // words ending before this sample were already final
    std::string partial;           // cached: only re-read when new frames were decoded
    size_t partial_frames = 0;     // utt.size() / kFrameSamples when `partial` was read
    std::vector<int16_t> backlog;  // audio after utt, not yet decoded (spread over frames)
    std::vector<int16_t> chunk;    // resampler output, reused
    std::vector<Span> spans;       // VAD output, reused

    explicit Impl(const RecognizerConfig& cfg);
    static DecoderSetup setup(const RecognizerConfig& cfg);
    ps_decoder_t* ps() const { return decoder.get(); }
    void use_search(const std::vector<std::string>& phrases);
    std::string phrase_grammar(const std::vector<std::string>& phrases);

    void start_utt(size_t at);
    void end_utt();
    void feed(std::span<const int16_t> pcm);
    void feed_backlog(size_t max_samples);
    size_t decoded_end() const { return utt_start + utt.size(); }
    void close_utterance(size_t cut, size_t speech_begin, std::vector<Word>& out);
    size_t collect_words(size_t speech_begin, size_t cut, std::vector<Word>& out);
    void restart_at(size_t from);
    void restart_if_silent();
    StreamUpdate update_for(std::vector<Word> words);
    const std::string& current_partial();
    size_t max_utt_samples() const;
    size_t decode_budget(size_t frame) const;
};

// -fwdflat no: the second pass runs at each utterance end, over the whole utterance, which
// made results late; without it read/ gave fewer errors (WER 0.287 vs 0.303) at 0.52x the
// decoding time. -maxhmmpf 3000 (RecognizerConfig::stream_max_hmms, live.max_hmms_per_frame;
// pocketsphinx's default is 30000): at most that many HMMs active per frame. Streaming cost
// 1.33x the recorded pipeline's CPU over read/ + fillers/ + the AMI meeting (2.1x on the
// hesitant fillers/ clips, whose search the default lets grow wide); with the cap 0.58x,
// for stream WER 0.565 -> 0.577 (697 words; bench/RESULTS.md, 2026-12-02). A live stream
// must keep up with real time on a shared CPU; the recorded pipeline keeps the default.
// The rest of the setup (model, -remove_silence no, filler words, LM search) is the recorded
// pipeline's (speech/decoder_config.cpp).
DecoderSetup StreamDecoder::Impl::setup(const RecognizerConfig& cfg) {
    DecoderSetup s;
    s.model_dir = cfg.model_dir;
    s.detect_fillers = cfg.detect_fillers;
    s.lm_search = kLmSearch;
    s.fwdflat = false;
    s.max_hmms = cfg.stream_max_hmms;
    return s;
}

StreamDecoder::Impl::Impl(const RecognizerConfig& cfg)
    : decoder(setup(cfg)), fillers_on(cfg.detect_fillers) {
    vad_params.lookahead_s = kVadLookaheadS;
}

// vosk's phrase_list as a JSGF grammar: any sequence of the phrases. "[unk]" (vosk's garbage
// word) is skipped: pocketsphinx's grammar search has no garbage word to map it to.
std::string StreamDecoder::Impl::phrase_grammar(const std::vector<std::string>& phrases) {
    std::string alternatives;
    for (const std::string& phrase : phrases) {
        std::istringstream in(lower(phrase));
        std::string word, words;
        while (in >> word) {
            if (word == "[unk]") continue;
            CkdStringPtr pron(plain_word(word) ? ps_lookup_word(ps(), word.c_str()) : nullptr);
            if (!pron) {
                throw std::invalid_argument("phrase_list: \"" + word +
                                            "\" is not in the dictionary");
            }
            words += (words.empty() ? "" : " ") + word;
        }
        if (words.empty()) continue;
        alternatives += (alternatives.empty() ? "" : " | ") + words;
    }
    if (alternatives.empty()) return {};
    return "#JSGF V1.0;\ngrammar rostrum;\npublic <utterance> = <phrase>+;\n<phrase> = " +
           alternatives + ";\n";
}

// The grammar search replaces any previous one of the same name; the language model search is
// made current first, because replacing the current search would leave the decoder pointing
// at a freed one.
void StreamDecoder::Impl::use_search(const std::vector<std::string>& phrases) {
    const std::string grammar = phrase_grammar(phrases);  // throws before anything changes
    if (ps_set_search(ps(), kLmSearch) != 0) {
        throw std::runtime_error("pocketsphinx: cannot select the language model search");
    }
    if (grammar.empty()) return;
    if (ps_set_jsgf_string(ps(), kPhraseSearch, grammar.c_str()) != 0 ||
        ps_set_search(ps(), kPhraseSearch) != 0) {
        ps_set_search(ps(), kLmSearch);
        throw std::invalid_argument("phrase_list: the phrases do not make a grammar");
    }
}

// A new pocketsphinx utterance whose frame 0 is stream sample `at`.
void StreamDecoder::Impl::start_utt(size_t at) {
    ps_start_stream(ps());  // frame numbers restart at 0
    if (ps_start_utt(ps()) < 0) throw std::runtime_error("pocketsphinx: cannot start utterance");
    in_utt = true;
    utt_start = at;
    partial.clear();
    partial_frames = 0;
}

void StreamDecoder::Impl::end_utt() {
    if (!in_utt) return;
    ps_end_utt(ps());
    in_utt = false;
}

void StreamDecoder::Impl::feed(std::span<const int16_t> pcm) {
    if (pcm.empty()) return;
    utt.insert(utt.end(), pcm.begin(), pcm.end());
    ps_process_raw(ps(), pcm.data(), pcm.size(), FALSE, FALSE);
}

void StreamDecoder::Impl::feed_backlog(size_t max_samples) {
    const size_t n = std::min(max_samples, backlog.size());
    feed({backlog.data(), n});
    backlog.erase(backlog.begin(), backlog.begin() + static_cast<std::ptrdiff_t>(n));
}

// The words of the current utterance between two stream samples, as the recorded pipeline
// makes them: fillers classified (with the voicing check on their audio), adjacent fillers
// merged, confidences from the posterior.
// Returns where the first word after the cut starts (npos: none), so that the next utterance
// need not decode again the silence in between.
size_t StreamDecoder::Impl::collect_words(size_t speech_begin, size_t cut, std::vector<Word>& out) {
    ps_decoder_t* d = ps();
    std::vector<Word> words;
    size_t next_word = std::string::npos;
    for (ps_seg_t* seg = ps_seg_iter(d); seg; seg = ps_seg_next(seg)) {
        if (is_null_transition(ps_seg_word(seg))) continue;
        int sf = 0, ef = 0;
        ps_seg_frames(seg, &sf, &ef);
        const size_t b = std::min(utt.size(), static_cast<size_t>(sf) * kFrameSamples);
        const size_t e = std::min(utt.size(), static_cast<size_t>(ef + 1) * kFrameSamples);
        const size_t mid = utt_start + (b + e) / 2;
        if (mid >= cut && next_word == std::string::npos &&
            !is_silence_token(clean_token(ps_seg_word(seg)))) {
            next_word = utt_start + b;
        }
        // Outside the VAD's speech, or already sent as final: not this result's.
        if (mid < speech_begin || mid < emitted_until || mid >= cut) continue;
        int32 ascr = 0, lscr = 0, lback = 0;
        const int32 post = ps_seg_prob(seg, &ascr, &lscr, &lback);
        fillers::Decoded dw;
        dw.token = clean_token(ps_seg_word(seg));
        dw.duration_s = (ef + 1 - sf) * kFrameS;
        dw.confidence = std::clamp(logmath_exp(ps_get_logmath(d), post), 0.0, 1.0);
        dw.samples = {utt.data() + b, e - b};
        const auto kind = fillers::classify(rules, dw, fillers_on);
        if (!kind) continue;
        Word w;
        w.word = kind->spelling;
        w.filler = kind->filler;
        w.start_s = static_cast<double>(utt_start + b) / kRate;
        w.end_s = static_cast<double>(utt_start + e) / kRate;
        w.confidence = dw.confidence;
        words.push_back(std::move(w));
    }
    fillers::merge_adjacent(words);
    out.insert(out.end(), words.begin(), words.end());
    return next_word;
}

// Ends the utterance at stream sample `cut`: its words between speech_begin and cut become
// final. The VAD decides with a lag, so the decoder has usually heard the audio after the cut;
// from the first word it found there (or, if none, the last kQuietKeepS) that audio goes back
// to the backlog, to be decoded again as the start of the next utterance.
void StreamDecoder::Impl::close_utterance(size_t cut, size_t speech_begin, std::vector<Word>& out) {
    if (decoded_end() < cut) feed_backlog(cut - decoded_end());
    end_utt();
    const size_t next_word = collect_words(speech_begin, cut, out);
    emitted_until = std::max(emitted_until, cut);
    const size_t end = utt_start + utt.size();
    const size_t lead = static_cast<size_t>(kLeadInS * kRate);
    const size_t quiet = static_cast<size_t>(kQuietKeepS * kRate);
    size_t from = next_word == std::string::npos ? (end > quiet ? end - quiet : 0)
                                                 : (next_word > lead ? next_word - lead : 0);
    from = std::clamp(std::max(from, cut), utt_start, end);
    restart_at(from);
}

// A fresh utterance from stream sample `from` (within the current one); the audio after it
// goes back to the front of the backlog. Decoding it again at once made the reply to that one
// frame late (up to the VAD's 1.5 s lag of audio); the backlog spreads it over the next frames.
void StreamDecoder::Impl::restart_at(size_t from) {
    end_utt();
    backlog.insert(backlog.begin(), utt.begin() + static_cast<std::ptrdiff_t>(from - utt_start),
                   utt.end());
    utt.clear();
    start_utt(from);
}

// Per frame the decoder takes the new audio and as much again of the backlog (twice real
// time), more only if the backlog would pass kMaxBacklogS.
size_t StreamDecoder::Impl::decode_budget(size_t frame) const {
    const size_t max_backlog = static_cast<size_t>(kMaxBacklogS * kRate);
    const size_t budget = 2 * frame;
    return std::max(budget, backlog.size() > max_backlog ? backlog.size() - max_backlog : 0);
}

size_t StreamDecoder::Impl::max_utt_samples() const {
    // The VAD cuts speech at max_utterance_s but decides its lookahead late (and a forced
    // cut lands in the last 40%: the next utterance may run a little longer).
    return static_cast<size_t>((vad_params.max_utterance_s + vad_params.lookahead_s + 1) * kRate);
}

// Silence (an empty hypothesis) for a while, or an utterance longer than the VAD would ever
// let speech run: start over near the end so memory and the final search stay bounded.
void StreamDecoder::Impl::restart_if_silent() {
    const size_t silent_len = static_cast<size_t>(kSilentRestartS * kRate);
    const bool too_long = utt.size() > max_utt_samples();
    if (!too_long && (utt.size() < silent_len || !current_partial().empty())) return;
    // Silence has no words; a runaway utterance's are not speech (the VAD would have cut it).
    const size_t keep = static_cast<size_t>(kSilentKeepS * kRate);
    restart_at(utt_start + utt.size() - std::min(keep, utt.size()));
}

const std::string& StreamDecoder::Impl::current_partial() {
    const size_t frames = utt.size() / kFrameSamples;
    if (frames != partial_frames) {
        partial = partial_text(ps_get_hyp(ps(), nullptr));
        partial_frames = frames;
    }
    return partial;
}

StreamUpdate StreamDecoder::Impl::update_for(std::vector<Word> words) {
    StreamUpdate u;
    u.final = true;
    u.text = join_words(words);
    if (opt.words) u.words = std::move(words);
    return u;
}

StreamDecoder::StreamDecoder(const RecognizerConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}

StreamDecoder::~StreamDecoder() = default;

const std::string& StreamDecoder::engine() const {
    return impl_->decoder.engine();
}

void StreamDecoder::begin(const StreamOptions& opt) {
    if (opt.sample_rate < kMinRate || opt.sample_rate > kMaxRate) {
        throw std::invalid_argument("sample_rate must be between 8000 and 48000, not " +
                                    std::to_string(opt.sample_rate));
    }
    Impl& s = *impl_;
    s.end_utt();
    s.started = false;
    s.use_search(opt.phrases);
    s.opt = opt;
    if (opt.sample_rate == kRate) {
        s.resampler.reset();
    } else {
        s.resampler.emplace(opt.sample_rate);
    }
    s.vad.emplace(s.vad_params);
    s.utt.clear();
    s.utt.shrink_to_fit();  // a long previous stream must not pin its buffer
    s.backlog.clear();
    s.emitted_until = 0;
    s.start_utt(0);
    s.started = true;
}

StreamUpdate StreamDecoder::accept(std::span<const int16_t> pcm) {
    Impl& s = *impl_;
    if (!s.started) throw std::logic_error("StreamDecoder::accept before begin");
    s.chunk.clear();
    if (s.resampler) {
        s.resampler->push(pcm, s.chunk);
    } else {
        s.chunk.assign(pcm.begin(), pcm.end());
    }
    s.backlog.insert(s.backlog.end(), s.chunk.begin(), s.chunk.end());
    s.spans.clear();
    s.vad->push(s.chunk.data(), s.chunk.size(), s.spans);
    std::vector<Word> words;
    for (const Span& span : s.spans) s.close_utterance(span.end, span.begin, words);
    s.feed_backlog(s.decode_budget(s.chunk.size()));
    if (!words.empty()) return s.update_for(std::move(words));
    s.restart_if_silent();
    StreamUpdate u;
    u.text = s.current_partial();
    return u;
}

bool StreamDecoder::catch_up(double max_seconds) {
    Impl& s = *impl_;
    if (!s.started || s.backlog.empty() || max_seconds <= 0) return false;
    s.feed_backlog(std::max<size_t>(1, static_cast<size_t>(max_seconds * kRate)));
    return true;
}

StreamUpdate StreamDecoder::finish() {
    Impl& s = *impl_;
    if (!s.started) throw std::logic_error("StreamDecoder::finish before begin");
    s.chunk.clear();
    if (s.resampler) s.resampler->drain(s.chunk);
    s.backlog.insert(s.backlog.end(), s.chunk.begin(), s.chunk.end());
    s.spans.clear();
    s.vad->push(s.chunk.data(), s.chunk.size(), s.spans);
    s.vad->finish(s.spans);
    std::vector<Word> words;
    // Each close decodes up to its span's end; nothing after the last span is speech.
    for (const Span& span : s.spans) s.close_utterance(span.end, span.begin, words);
    s.end_utt();
    s.started = false;
    s.utt.clear();
    s.backlog.clear();
    return s.update_for(std::move(words));
}

// --- vosk's JSON ---

namespace {

// vosk-api's src/json.h (SimpleJSON) as vosk-server sends it: objects with sorted keys, one
// per line, indented two spaces per level, `"key" : value`; numbers by std::to_string
// ("%f"); arrays inline with ", ". Strings escaped as json_escape does.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += c;
        }
    }
    return out + "\"";
}

// One word at depth 3 (inside "result", inside the top object); with_conf = false for
// vosk's n-best entries, which carry no per-word confidence.
std::string word_object(const Word& w, bool with_conf, const std::string& pad) {
    std::string s = "{\n";
    if (with_conf) s += pad + "\"conf\" : " + std::to_string(w.confidence) + ",\n";
    s += pad + "\"end\" : " + std::to_string(w.end_s) + ",\n";
    s += pad + "\"start\" : " + std::to_string(w.start_s) + ",\n";
    s += pad + "\"word\" : " + quoted(w.word) + "\n";
    return s + pad.substr(2) + "}";
}

std::string word_array(const std::vector<Word>& words, bool with_conf, const std::string& pad) {
    std::string s = "[";
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) s += ", ";
        s += word_object(words[i], with_conf, pad);
    }
    return s + "]";
}

double mean_confidence(const std::vector<Word>& words) {
    if (words.empty()) return 1.0;
    double sum = 0;
    for (const Word& w : words) sum += w.confidence;
    return sum / static_cast<double>(words.size());
}

// max_alternatives > 0: vosk's NbestResult shape. pocketsphinx's n-best lists are not
// computed here, so the one alternative is the best path, its confidence the mean posterior
// (vosk's is a likelihood; clients rank by it, which one entry leaves unchanged).
std::string alternatives_json(const StreamUpdate& u, const StreamOptions& opt) {
    if (u.text.empty()) {
        // recognizer.cc StoreEmptyReturn with max_alternatives_
        return "{\"alternatives\" : [{\"text\": \"\", \"confidence\" : 1.0}] }";
    }
    std::string entry = "{\n";
    entry += "      \"confidence\" : " + std::to_string(mean_confidence(u.words)) + ",\n";
    if (opt.words && !u.words.empty()) {
        entry += "      \"result\" : " + word_array(u.words, false, "          ") + ",\n";
    }
    entry += "      \"text\" : " + quoted(u.text) + "\n    }";
    return "{\n  \"alternatives\" : [" + entry + "]\n}";
}

}  // namespace

// Matched against alphacep/vosk-api src/recognizer.cc (PartialResult, MbrResult,
// NbestResult, StoreEmptyReturn) and src/json.h dump(); vosk-server's asr_server.py sends
// those strings unchanged.
std::string to_vosk_json(const StreamUpdate& u, const StreamOptions& opt) {
    if (!u.final) return "{\n  \"partial\" : " + quoted(u.text) + "\n}";
    if (opt.max_alternatives > 0) return alternatives_json(u, opt);
    std::string s = "{\n";
    if (opt.words && !u.words.empty()) {
        s += "  \"result\" : " + word_array(u.words, true, "      ") + ",\n";
    }
    return s + "  \"text\" : " + quoted(u.text) + "\n}";
}

}  // namespace speech
