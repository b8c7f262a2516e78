// Scores (0–100), the pace band and the tips of the delivery analysis, computed from the
// measured fields of an Analysis. Private to speech/metrics.cpp; docs/analysis.md gives the
// same formulas for users.
#pragma once

#include <string>
#include <vector>

#include "speech/metrics.h"

namespace speech::scoring {

using Scores = decltype(Analysis::scores);

// Talks: "too_slow" < 100 ≤ "slow" < 120 ≤ "good" ≤ 165 < "fast" ≤ 180 < "too_fast" (wpm);
// "" when no words were recognised.
std::string pace_band(double wpm, int word_count);

// The sub-scores, each 0–100 and piecewise linear between the points given in scoring.cpp.
double pace_score(double wpm);
double filler_score(double fillers_per_100_words);
double long_pause_score(double long_pauses_per_min);
double clarity_score(double mean_confidence);
double hedge_score(double hedges_per_100_words);
double volume_variation_score(double variation_db);
double pitch_range_score(double range_semitones, bool monotone);

// All five scores; all 0 when no words were recognised.
Scores score(const Analysis& a);

// 2–5 suggestions, weakest measurement first, each quoting its numbers.
std::vector<std::string> tips(const Analysis& a);

}  // namespace speech::scoring
