// Delivery analysis: pure functions of the transcript and the samples (no I/O). The norms
// (pause thresholds, pace bands, filler bands, monotone rule, score formulas) are documented
// next to each function and in the OpenAPI description of the Analysis object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "speech/transcript.h"

namespace speech {

// The "good" pace band of talks (wpm, inclusive): the pace score is 100 inside it, and
// progress reports call a change of pace better when it moves into it.
inline constexpr double kPaceGoodLowWpm = 120, kPaceGoodHighWpm = 165;

struct Analysis {
    double duration_s = 0;
    double speech_s = 0;
    int word_count = 0;
    double wpm = 0;               // over the speaking span (first word start .. last word end)
    double articulation_wpm = 0;  // with pauses removed
    struct {
        int count = 0;
        double per_min = 0;
        double per_100_words = 0;
        std::map<std::string, int> words;
        int clusters = 0;  // ≥ 3 fillers within 10 s
    } fillers;
    struct {
        int count = 0;       // silences ≥ 250 ms between words
        int long_count = 0;  // ≥ 1 s
        double longest_s = 0;
        double mean_s = 0;
        double per_min = 0;
        double long_per_min = 0;  // added: long pauses per minute of the speaking span
    } pauses;
    struct {
        double median_hz = 0;
        double range_semitones = 0;  // p10..p90 of voiced F0
        bool monotone = false;       // spread < 2 semitones over 8-second windows
    } pitch;
    struct {
        double mean_dbfs = 0;
        double variation_db = 0;
        bool flat = false;       // variation < 3 dB
        double clipped_pct = 0;  // added: % of samples at full scale (recording too hot)
    } volume;
    double confidence = 0;  // mean word confidence
    struct {
        double unique_ratio = 0;
        std::vector<std::string> repeated_phrases;
        std::vector<int> repeated_counts;  // added: occurrences, parallel to repeated_phrases
    } vocabulary;
    struct {
        int count = 0;
        std::map<std::string, int> words;
        double per_100_words = 0;  // added
    } hedges;
    struct {
        int pace = 0, fluency = 0, clarity = 0, confidence = 0, overall = 0;  // 0..100
    } scores;
    std::string pace_band;          // "too_slow" | "slow" | "good" | "fast" | "too_fast"
    std::vector<std::string> tips;  // 2–5 concrete suggestions
};

// Hedge phrases ("i think", "maybe", "sort of", ...): editable, one per line.
std::vector<std::string> default_hedges();
// Added: parses a hedge lexicon in that format (e.g. speech/hedges.txt read by the caller):
// one phrase per line, '#' starts a comment, case and spacing normalised, duplicates dropped.
std::vector<std::string> parse_hedges(std::string_view text);

Analysis analyse(const Transcript& t, const int16_t* samples, size_t n, int sample_rate,
                 const std::vector<std::string>& hedges = default_hedges());

// The Analysis object of API.md as JSON text.
std::string analysis_json(const Analysis& a);

// Building blocks, exposed for unit tests on synthetic signals.
// F0 per 10 ms frame (0 for unvoiced), YIN over 40 ms windows, 60–500 Hz.
std::vector<double> track_pitch(const int16_t* samples, size_t n, int sample_rate);
// RMS level in dBFS per 50 ms frame, for frames above the noise floor.
std::vector<double> frame_levels_dbfs(const int16_t* samples, size_t n, int sample_rate);

}  // namespace speech
