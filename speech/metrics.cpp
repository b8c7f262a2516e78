// Delivery analysis: turns a transcript and its 16 kHz samples into API.md's Analysis object.
// Norms (docs/analysis.md has the same text for users):
//   pauses   silences between words ≥ 250 ms; long ≥ 1 s
//   wpm      non-filler words per minute of the speaking span (first word start → last end);
//            articulation_wpm divides by the span minus the pauses instead
//   pace     talks: good 120–165 wpm, slow 100–120, too slow < 100, fast 165–180, too fast > 180
//   fillers  per 100 words spoken (fillers included): ≤ 2 good, 2–5 fair, > 5 poor; clusters
//            are 3 or more fillers within 10 s
//   pitch    YIN F0 (pitch.cpp): median, p10–p90 range in semitones, monotone when the
//            typical 8-second window spreads under 2 semitones
//   volume   RMS of 50 ms frames in dBFS (full-scale peak = 0 dBFS, so a full-scale sine reads
//            −3 dBFS); variation = standard deviation of 1-second levels; flat under 3 dB
// Scores and tips live in scoring.cpp, text helpers in lexicon.cpp.
#include "speech/metrics.h"

#include <algorithm>
#include <cmath>

#include "core/json.h"
#include "speech/lexicon.h"
#include "speech/pitch.h"
#include "speech/scoring.h"

namespace speech {
namespace {

constexpr double kPauseS = 0.25;
constexpr double kLongPauseS = 1.0;
constexpr int kClusterFillers = 3;
constexpr double kClusterWindowS = 10;

constexpr double kLevelFrameS = 0.050;
constexpr double kSilenceDbfs = -120;    // the level reported for digital silence
constexpr double kLevelFloorDbfs = -60;  // frames below this are never speech
constexpr double kLevelRangeDb = 30;     // nor frames this far below the loud (p95) frames
constexpr double kNoiseMarginDb = 6;     // nor frames within 6 dB of a visible noise floor
constexpr double kVisibleFloorDb = 12;   // p95 − p10 that shows a distinct noise floor
constexpr size_t kFramesPerBlock = 20;   // 1-second blocks for the variation
constexpr size_t kMinSpeechFrames = 5;   // a block needs 250 ms of speech to count
constexpr size_t kMinBlocks = 3;         // variation needs 3 such blocks
constexpr double kFlatDb = 3;

// A word of the transcript after cleaning: normalised text, sane times.
struct Token {
    std::string text;
    double start = 0, end = 0, confidence = 0;
    bool filler = false;
};

std::vector<Token> clean_tokens(const Transcript& t) {
    std::vector<Token> out;
    for (const Word& w : t.words) {
        if (!std::isfinite(w.start_s) || !std::isfinite(w.end_s)) continue;
        std::string text = lexicon::normalize_word(w.word);
        if (text.empty()) continue;
        Token tok{std::move(text), std::max(0.0, w.start_s), 0, 0, false};
        tok.end = std::max(tok.start, w.end_s);
        tok.confidence = std::isfinite(w.confidence) ? std::clamp(w.confidence, 0.0, 1.0) : 0;
        tok.filler = w.filler || lexicon::is_filler_word(tok.text);
        out.push_back(std::move(tok));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Token& a, const Token& b) { return a.start < b.start; });
    return out;
}

std::vector<std::string> content_words(const std::vector<Token>& tokens) {
    std::vector<std::string> words;
    for (const Token& t : tokens)
        if (!t.filler) words.push_back(t.text);
    return words;
}

double per_minute(double count, double span_s) {
    return span_s > 0 ? count * 60 / span_s : 0;
}
double per_100(double count, double total) {
    return total > 0 ? count * 100 / total : 0;
}

// Silences between consecutive words (overlapping words leave none).
std::vector<double> gaps_between(const std::vector<Token>& tokens) {
    std::vector<double> gaps;
    double end_so_far = tokens.empty() ? 0 : tokens.front().end;
    for (size_t i = 1; i < tokens.size(); ++i) {
        gaps.push_back(std::max(0.0, tokens[i].start - end_so_far));
        end_so_far = std::max(end_so_far, tokens[i].end);
    }
    return gaps;
}

double speaking_span(const std::vector<Token>& tokens) {
    if (tokens.empty()) return 0;
    double last_end = 0;
    for (const Token& t : tokens) last_end = std::max(last_end, t.end);
    return last_end - tokens.front().start;
}

void measure_pauses(const std::vector<Token>& tokens, double span_s, Analysis& a) {
    double total = 0;
    for (double gap : gaps_between(tokens)) {
        if (gap < kPauseS) continue;
        ++a.pauses.count;
        if (gap >= kLongPauseS) ++a.pauses.long_count;
        a.pauses.longest_s = std::max(a.pauses.longest_s, gap);
        total += gap;
    }
    a.pauses.mean_s = a.pauses.count > 0 ? total / a.pauses.count : 0;
    a.pauses.per_min = per_minute(a.pauses.count, span_s);
    a.pauses.long_per_min = per_minute(a.pauses.long_count, span_s);
    a.speech_s = std::max(0.0, span_s - total);
}

void measure_rate(const std::vector<Token>& tokens, double span_s, Analysis& a) {
    a.word_count = static_cast<int>(
        std::count_if(tokens.begin(), tokens.end(), [](const Token& t) { return !t.filler; }));
    a.wpm = per_minute(a.word_count, span_s);
    a.articulation_wpm = per_minute(a.word_count, a.speech_s);
}

// Groups of ≥ 3 fillers within 10 s; groups that share a filler count once.
int count_filler_clusters(const std::vector<double>& starts) {
    constexpr size_t k = kClusterFillers;
    int clusters = 0;
    size_t covered_until = 0;  // one past the last filler of the current cluster
    for (size_t i = 0; i + k <= starts.size(); ++i) {
        if (starts[i + k - 1] - starts[i] > kClusterWindowS) continue;
        if (i >= covered_until) ++clusters;
        covered_until = i + k;
    }
    return clusters;
}

void measure_fillers(const std::vector<Token>& tokens, double span_s, Analysis& a) {
    std::vector<double> starts;
    for (const Token& t : tokens) {
        if (!t.filler) continue;
        ++a.fillers.words[t.text];
        starts.push_back(t.start);
    }
    a.fillers.count = static_cast<int>(starts.size());
    a.fillers.per_min = per_minute(a.fillers.count, span_s);
    a.fillers.per_100_words = per_100(a.fillers.count, a.fillers.count + a.word_count);
    a.fillers.clusters = count_filler_clusters(starts);
}

double mean_confidence(const std::vector<Token>& tokens) {
    double sum = 0;
    int n = 0;
    for (const Token& t : tokens) {
        if (t.filler) continue;
        sum += t.confidence;
        ++n;
    }
    return n > 0 ? sum / n : 0;
}

void measure_language(const std::vector<Token>& tokens, const std::vector<std::string>& hedges,
                      Analysis& a) {
    const std::vector<std::string> words = content_words(tokens);
    a.vocabulary.unique_ratio = lexicon::unique_ratio(words);
    for (auto& p : lexicon::repeated_phrases(words)) {
        a.vocabulary.repeated_phrases.push_back(std::move(p.text));
        a.vocabulary.repeated_counts.push_back(p.count);
    }
    lexicon::PhraseCounts h = lexicon::count_phrases(words, hedges);
    a.hedges.count = h.total;
    a.hedges.words = std::move(h.by_phrase);
    a.hedges.per_100_words = per_100(a.hedges.count, a.word_count);
}

// ---- volume ----

// RMS level of every 50 ms frame (a trailing partial frame is dropped).
std::vector<double> all_frame_levels(const int16_t* samples, size_t n, int sample_rate) {
    if (samples == nullptr || sample_rate <= 0) return {};
    const size_t frame = std::max<size_t>(1, std::lround(kLevelFrameS * sample_rate));
    std::vector<double> levels;
    for (size_t start = 0; start + frame <= n; start += frame) {
        double energy = 0;
        for (size_t i = start; i < start + frame; ++i)
            energy += static_cast<double>(samples[i]) * samples[i];
        const double rms = std::sqrt(energy / static_cast<double>(frame)) / 32768.0;
        levels.push_back(rms > 0 ? std::max(kSilenceDbfs, 20 * std::log10(rms)) : kSilenceDbfs);
    }
    return levels;
}

// The level a frame must reach to count as speech rather than background.
double speech_gate(const std::vector<double>& levels) {
    const double loud = pitch::quantile(levels, 0.95);
    const double quiet = pitch::quantile(levels, 0.10);
    double gate = std::max(kLevelFloorDbfs, loud - kLevelRangeDb);
    if (loud - quiet >= kVisibleFloorDb) gate = std::max(gate, quiet + kNoiseMarginDb);
    return gate;
}

double mean_of(const std::vector<double>& v) {
    if (v.empty()) return 0;
    double sum = 0;
    for (double x : v) sum += x;
    return sum / static_cast<double>(v.size());
}

double stddev_of(const std::vector<double>& v) {
    const double m = mean_of(v);
    double sq = 0;
    for (double x : v) sq += (x - m) * (x - m);
    return v.empty() ? 0 : std::sqrt(sq / static_cast<double>(v.size()));
}

// Power mean of the speech frames of each 1-second block that has at least 250 ms of speech.
std::vector<double> block_levels(const std::vector<double>& levels, double gate) {
    std::vector<double> blocks;
    for (size_t start = 0; start < levels.size(); start += kFramesPerBlock) {
        const size_t end = std::min(levels.size(), start + kFramesPerBlock);
        double power = 0;
        size_t speech = 0;
        for (size_t i = start; i < end; ++i) {
            if (levels[i] < gate) continue;
            power += std::pow(10.0, levels[i] / 10);
            ++speech;
        }
        if (speech >= kMinSpeechFrames)
            blocks.push_back(10 * std::log10(power / static_cast<double>(speech)));
    }
    return blocks;
}

double clipped_percent(const int16_t* samples, size_t n) {
    if (samples == nullptr || n == 0) return 0;
    size_t clipped = 0;
    for (size_t i = 0; i < n; ++i) clipped += samples[i] >= 32767 || samples[i] <= -32767;
    return 100.0 * static_cast<double>(clipped) / static_cast<double>(n);
}

void measure_volume(const int16_t* samples, size_t n, int sample_rate, Analysis& a) {
    const std::vector<double> levels = all_frame_levels(samples, n, sample_rate);
    a.volume.clipped_pct = clipped_percent(samples, n);
    if (levels.empty()) return;  // no audio: 0 dBFS and no variation, documented as such
    const double gate = speech_gate(levels);
    std::vector<double> speech;
    for (double l : levels)
        if (l >= gate) speech.push_back(l);
    // All below the floor (silence): report how quiet it was rather than nothing.
    a.volume.mean_dbfs = speech.empty() ? mean_of(levels) : mean_of(speech);
    const std::vector<double> blocks = block_levels(levels, gate);
    if (blocks.size() < kMinBlocks) return;
    a.volume.variation_db = stddev_of(blocks);
    a.volume.flat = a.volume.variation_db < kFlatDb;
}

double audio_duration(size_t n, int sample_rate, const std::vector<Token>& tokens) {
    if (n > 0 && sample_rate > 0) return static_cast<double>(n) / sample_rate;
    double last_end = 0;
    for (const Token& t : tokens) last_end = std::max(last_end, t.end);
    return last_end;
}

// ---- JSON ----

// Two decimals: enough for seconds and rates, and stable in stored JSON.
double r2(double v) {
    return std::isfinite(v) ? std::round(v * 100) / 100 : 0;
}

void write_counts(core::JsonWriter& w, std::string_view name,
                  const std::map<std::string, int>& counts) {
    w.key(name).begin_object();
    for (const auto& [word, n] : counts) w.field(word, n);
    w.end_object();
}

void write_fillers(core::JsonWriter& w, const Analysis& a) {
    w.key("fillers").begin_object();
    w.field("count", a.fillers.count);
    w.field("per_min", r2(a.fillers.per_min));
    w.field("per_100_words", r2(a.fillers.per_100_words));
    write_counts(w, "words", a.fillers.words);
    w.field("clusters", a.fillers.clusters);
    w.end_object();
}

void write_pauses(core::JsonWriter& w, const Analysis& a) {
    w.key("pauses").begin_object();
    w.field("count", a.pauses.count);
    w.field("long_count", a.pauses.long_count);
    w.field("longest_s", r2(a.pauses.longest_s));
    w.field("mean_s", r2(a.pauses.mean_s));
    w.field("per_min", r2(a.pauses.per_min));
    w.field("long_per_min", r2(a.pauses.long_per_min));
    w.end_object();
}

void write_voice(core::JsonWriter& w, const Analysis& a) {
    w.key("pitch").begin_object();
    w.field("median_hz", r2(a.pitch.median_hz));
    w.field("range_semitones", r2(a.pitch.range_semitones));
    w.field("monotone", a.pitch.monotone);
    w.end_object();
    w.key("volume").begin_object();
    w.field("mean_dbfs", r2(a.volume.mean_dbfs));
    w.field("variation_db", r2(a.volume.variation_db));
    w.field("flat", a.volume.flat);
    w.field("clipped_pct", r2(a.volume.clipped_pct));
    w.end_object();
}

void write_language(core::JsonWriter& w, const Analysis& a) {
    w.key("vocabulary").begin_object();
    w.field("unique_ratio", r2(a.vocabulary.unique_ratio));
    w.key("repeated_phrases").begin_array();
    for (const auto& p : a.vocabulary.repeated_phrases) w.value(p);
    w.end_array();
    w.end_object();
    w.key("hedges").begin_object();
    w.field("count", a.hedges.count);
    write_counts(w, "words", a.hedges.words);
    w.field("per_100_words", r2(a.hedges.per_100_words));
    w.end_object();
}

void write_scores(core::JsonWriter& w, const Analysis& a) {
    w.key("scores").begin_object();
    w.field("pace", a.scores.pace);
    w.field("fluency", a.scores.fluency);
    w.field("clarity", a.scores.clarity);
    w.field("confidence", a.scores.confidence);
    w.field("overall", a.scores.overall);
    w.end_object();
    w.key("tips").begin_array();
    for (const auto& t : a.tips) w.value(t);
    w.end_array();
}

}  // namespace

std::vector<std::string> default_hedges() {
    return lexicon::parse_phrase_list(lexicon::default_hedge_text());
}

std::vector<std::string> parse_hedges(std::string_view text) {
    return lexicon::parse_phrase_list(text);
}

std::vector<double> frame_levels_dbfs(const int16_t* samples, size_t n, int sample_rate) {
    const std::vector<double> levels = all_frame_levels(samples, n, sample_rate);
    const double gate = speech_gate(levels);
    std::vector<double> speech;
    for (double l : levels)
        if (l >= gate) speech.push_back(l);
    return speech;
}

Analysis analyse(const Transcript& t, const int16_t* samples, size_t n, int sample_rate,
                 const std::vector<std::string>& hedges) {
    Analysis a;
    const std::vector<Token> tokens = clean_tokens(t);
    const double span_s = speaking_span(tokens);
    a.duration_s = audio_duration(n, sample_rate, tokens);
    measure_pauses(tokens, span_s, a);
    measure_rate(tokens, span_s, a);
    measure_fillers(tokens, span_s, a);
    a.confidence = mean_confidence(tokens);
    measure_language(tokens, hedges, a);
    a.pitch = pitch::summarize_pitch(track_pitch(samples, n, sample_rate));
    measure_volume(samples, n, sample_rate, a);
    a.pace_band = scoring::pace_band(a.wpm, a.word_count);
    a.scores = scoring::score(a);
    a.tips = scoring::tips(a);
    return a;
}

std::string analysis_json(const Analysis& a) {
    core::JsonWriter w;
    w.begin_object();
    w.field("duration_s", r2(a.duration_s));
    w.field("speech_s", r2(a.speech_s));
    w.field("word_count", a.word_count);
    w.field("wpm", r2(a.wpm));
    w.field("articulation_wpm", r2(a.articulation_wpm));
    w.key("pace_band");
    if (a.pace_band.empty())
        w.null();
    else
        w.value(a.pace_band);
    write_fillers(w, a);
    write_pauses(w, a);
    write_voice(w, a);
    w.field("confidence", r2(a.confidence));
    write_language(w, a);
    write_scores(w, a);
    w.end_object();
    return w.take();
}

}  // namespace speech
