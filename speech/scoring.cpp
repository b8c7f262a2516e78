// Scores (0–100), pace band and tips of the delivery analysis. Every score is a piecewise
// linear curve through the points written next to it; docs/analysis.md repeats them for users.
#include "speech/scoring.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <initializer_list>
#include <utility>

namespace speech::scoring {
namespace {

using Point = std::pair<double, double>;

// Linear between the points (x ascending), flat beyond the first and last.
double piecewise(double x, std::initializer_list<Point> points) {
    const Point* p = points.begin();
    if (!std::isfinite(x) || x <= p->first) return p->second;
    for (const Point* q = p + 1; q != points.end(); ++p, ++q) {
        if (x <= q->first)
            return p->second + (q->second - p->second) * (x - p->first) / (q->first - p->first);
    }
    return p->second;
}

int to_score(double v) {
    return static_cast<int>(std::lround(std::clamp(v, 0.0, 100.0)));
}

// Talk norms (wpm).
constexpr double kGoodLow = kPaceGoodLowWpm, kGoodHigh = kPaceGoodHighWpm, kTooSlow = 100,
                 kTooFast = 180;

// Filler and hedge rates above these make a tip.
constexpr double kFillerGood = 2;
constexpr double kHedgeGood = 1;
constexpr double kLongPausesGood = 2;  // per minute

// Overall weights (sum 1) and the weights inside the confidence score.
constexpr double kWeightPace = 0.25, kWeightFluency = 0.30, kWeightClarity = 0.20,
                 kWeightConfidence = 0.25;
constexpr double kWeightHedges = 0.5, kWeightVolume = 0.25, kWeightPitch = 0.25;

bool pitch_measured(const Analysis& a) {
    return a.pitch.median_hz > 0;
}
// A steady level is flat with 0 dB variation; 0 dB and not flat means too little speech.
bool volume_measured(const Analysis& a) {
    return a.volume.flat || a.volume.variation_db > 0;
}

double confidence_score(const Analysis& a) {
    double sum = kWeightHedges * hedge_score(a.hedges.per_100_words);
    double weights = kWeightHedges;
    if (volume_measured(a)) {
        sum += kWeightVolume * volume_variation_score(a.volume.variation_db);
        weights += kWeightVolume;
    }
    if (pitch_measured(a)) {
        sum += kWeightPitch * pitch_range_score(a.pitch.range_semitones, a.pitch.monotone);
        weights += kWeightPitch;
    }
    return sum / weights;
}

// ---- tips ----

struct Tip {
    double priority;  // lower is more urgent; 100 and above are encouragements
    std::string text;
};

[[gnu::format(printf, 1, 2)]] std::string format(const char* fmt, ...) {
    char buf[512];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    return buf;
}

template <class Map>
std::pair<std::string, int> most_frequent(const Map& counts) {
    std::pair<std::string, int> best{"", 0};
    for (const auto& [word, n] : counts)
        if (n > best.second) best = {word, n};
    return best;
}

int rounded(double v) {
    return static_cast<int>(std::lround(v));
}

// "once", "twice", "3 times".
std::string times(int n) {
    if (n == 1) return "once";
    if (n == 2) return "twice";
    return std::to_string(n) + " times";
}

std::string counted(int n, const char* noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

void add_pace_tips(const Analysis& a, std::vector<Tip>& out) {
    const int wpm = rounded(a.wpm);
    const double s = pace_score(a.wpm);
    if (a.wpm > kGoodHigh)
        out.push_back({s, format("You averaged %d words per minute; aim for 120–165: pause after "
                                 "key points so they land.",
                                 wpm)});
    else if (a.wpm < kGoodLow)
        out.push_back({s, format("You averaged %d words per minute; aim for 120–165: rehearse "
                                 "until the wording comes easily, and keep pauses for emphasis.",
                                 wpm)});
    else
        out.push_back({100, format("Your pace of %d words per minute sits in the 120–165 band; "
                                   "keep it.",
                                   wpm)});
}

void add_filler_tips(const Analysis& a, std::vector<Tip>& out) {
    const double rate = a.fillers.per_100_words;
    const double s = filler_score(rate);
    if (rate > kFillerGood) {
        const auto [word, n] = most_frequent(a.fillers.words);
        out.push_back({s, format("You used %s (%.1f per 100 words), most often “%s” (%s); when "
                                 "you need a moment, pause silently instead.",
                                 counted(a.fillers.count, "filler").c_str(), rate, word.c_str(),
                                 times(n).c_str())});
    } else {
        out.push_back(
            {101, format("Only %.1f fillers per 100 words: that reads as fluent.", rate)});
    }
    if (a.fillers.clusters > 0)
        out.push_back({std::min(99.0, s + 10),
                       format("Your fillers bunched up %s (3 or more within 10 seconds): "
                              "rehearse those transitions until they come without searching.",
                              times(a.fillers.clusters).c_str())});
}

void add_pause_tips(const Analysis& a, std::vector<Tip>& out) {
    // One long pause in a short clip is a high rate but no habit.
    if (a.pauses.long_per_min <= kLongPausesGood || a.pauses.long_count < 2) return;
    out.push_back({long_pause_score(a.pauses.long_per_min),
                   format("You paused for over a second %d times (%.1f per minute; the longest was "
                          "%.1f s); plan your transitions so each pause is a choice.",
                          a.pauses.long_count, a.pauses.long_per_min, a.pauses.longest_s)});
}

void add_hedge_tips(const Analysis& a, std::vector<Tip>& out) {
    if (a.hedges.per_100_words <= kHedgeGood) return;
    const auto [phrase, n] = most_frequent(a.hedges.words);
    out.push_back({hedge_score(a.hedges.per_100_words),
                   format("You hedged %s (%.1f per 100 words), most often with “%s” (%s); "
                          "state your main points plainly and keep qualifiers for real doubt.",
                          times(a.hedges.count).c_str(), a.hedges.per_100_words, phrase.c_str(),
                          times(n).c_str())});
}

void add_voice_tips(const Analysis& a, std::vector<Tip>& out) {
    if (pitch_measured(a) && a.pitch.monotone)
        out.push_back({pitch_range_score(a.pitch.range_semitones, true),
                       format("Your pitch stayed within 2 semitones in a typical 8-second stretch "
                              "(overall range %.1f semitones); rise on key words and let "
                              "statements fall at the end.",
                              a.pitch.range_semitones)});
    else if (pitch_measured(a))
        out.push_back({102, format("Your pitch moved over %.1f semitones, which keeps listeners "
                                   "with you.",
                                   a.pitch.range_semitones)});
    if (volume_measured(a) && a.volume.flat)
        out.push_back({volume_variation_score(a.volume.variation_db),
                       format("Your volume varied by only %.1f dB; get louder for key points and "
                              "drop lower for asides.",
                              a.volume.variation_db)});
}

void add_recording_tips(const Analysis& a, std::vector<Tip>& out) {
    const double clarity = clarity_score(a.confidence);
    if (clarity < 70)
        out.push_back({clarity, format("The recognizer was on average %d%% sure of your words; "
                                       "finish word endings and keep the microphone close.",
                                       rounded(a.confidence * 100))});
    if (a.volume.clipped_pct > 1)
        out.push_back({30, format("%.1f%% of the recording was clipped (distorted); move the "
                                  "microphone back a little or lower the input gain.",
                                  a.volume.clipped_pct)});
    else if (a.volume.mean_dbfs < -35)
        out.push_back({40, format("Your recording averaged %.0f dBFS, which is quiet; move closer "
                                  "to the microphone or raise the input level.",
                                  a.volume.mean_dbfs)});
    if (a.speech_s < 30)
        out.push_back({90, format("This recording holds %.0f seconds of speech; record at least a "
                                  "minute for steadier measurements.",
                                  a.speech_s)});
}

void add_repetition_tips(const Analysis& a, std::vector<Tip>& out) {
    const auto& v = a.vocabulary;
    if (v.repeated_phrases.empty() || v.repeated_counts.empty() || v.repeated_counts[0] < 3) return;
    out.push_back({60, format("You said “%s” %d times; vary the wording or cut the repeats.",
                              v.repeated_phrases[0].c_str(), v.repeated_counts[0])});
}

// Up to 5 problems, most urgent first; encouragements fill in until there are 2.
std::vector<std::string> pick(std::vector<Tip> candidates) {
    constexpr size_t kMin = 2, kMax = 5;
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Tip& x, const Tip& y) { return x.priority < y.priority; });
    std::vector<std::string> out;
    for (const Tip& t : candidates) {
        const bool problem = t.priority < 100;
        if (out.size() >= kMax || (!problem && out.size() >= kMin)) break;
        out.push_back(t.text);
    }
    if (out.size() < kMin)
        out.push_back("Record the same talk again after practising and compare the scores.");
    return out;
}

}  // namespace

std::string pace_band(double wpm, int word_count) {
    if (word_count <= 0) return "";
    if (wpm < kTooSlow) return "too_slow";
    if (wpm < kGoodLow) return "slow";
    if (wpm <= kGoodHigh) return "good";
    if (wpm <= kTooFast) return "fast";
    return "too_fast";
}

// 100 inside 120–165 wpm, linear to 0 at 60 and at 240 wpm.
double pace_score(double wpm) {
    return piecewise(wpm, {{60, 0}, {kGoodLow, 100}, {kGoodHigh, 100}, {240, 0}});
}

// 100 up to 2 per 100 words (good), 60 at 5 (the end of fair), 0 at 15.
double filler_score(double fillers_per_100_words) {
    return piecewise(fillers_per_100_words, {{kFillerGood, 100}, {5, 60}, {15, 0}});
}

// Pauses over 1 s are fine up to 2 a minute (deliberate emphasis); 0 at 10 a minute.
double long_pause_score(double long_pauses_per_min) {
    return piecewise(long_pauses_per_min, {{kLongPausesGood, 100}, {10, 0}});
}

// Mean recognizer confidence: 0 at 0.3, 100 at 0.9.
double clarity_score(double mean_confidence) {
    return piecewise(mean_confidence, {{0.3, 0}, {0.9, 100}});
}

// 100 up to 1 hedge per 100 words, 50 at 4, 0 at 8.
double hedge_score(double hedges_per_100_words) {
    return piecewise(hedges_per_100_words, {{kHedgeGood, 100}, {4, 50}, {8, 0}});
}

// Standard deviation of the 1-second levels: 40 when flat (0 dB), 80 at 3 dB, 100 from 5 dB.
double volume_variation_score(double variation_db) {
    return piecewise(variation_db, {{0, 40}, {3, 80}, {5, 100}});
}

// p10–p90 pitch range: 30 at 2 semitones, 80 at 5, 100 from 8; at most 50 when monotone.
double pitch_range_score(double range_semitones, bool monotone) {
    const double s = piecewise(range_semitones, {{2, 30}, {5, 80}, {8, 100}});
    return monotone ? std::min(s, 50.0) : s;
}

Scores score(const Analysis& a) {
    Scores s;
    if (a.word_count <= 0) return s;
    s.pace = to_score(pace_score(a.wpm));
    // fluency = 0.7 · fillers + 0.3 · long pauses
    s.fluency = to_score(0.7 * filler_score(a.fillers.per_100_words) +
                         0.3 * long_pause_score(a.pauses.long_per_min));
    s.clarity = to_score(clarity_score(a.confidence));
    // confidence = hedges 0.5, volume variation 0.25, pitch range 0.25 (weights of the parts
    // that could be measured, renormalised)
    s.confidence = to_score(confidence_score(a));
    s.overall = to_score(kWeightPace * s.pace + kWeightFluency * s.fluency +
                         kWeightClarity * s.clarity + kWeightConfidence * s.confidence);
    return s;
}

std::vector<std::string> tips(const Analysis& a) {
    if (a.word_count <= 0)
        return {
            "We could not recognise any words: check that the microphone is on and close to "
            "you, then record again.",
            "Speak for at least a minute so pace, pauses and pitch can be measured."};
    std::vector<Tip> candidates;
    add_pace_tips(a, candidates);
    add_filler_tips(a, candidates);
    add_pause_tips(a, candidates);
    add_hedge_tips(a, candidates);
    add_voice_tips(a, candidates);
    add_recording_tips(a, candidates);
    add_repetition_tips(a, candidates);
    return pick(std::move(candidates));
}

}  // namespace speech::scoring
