// Pitch statistics of the delivery analysis over a YIN F0 track (track_pitch in metrics.h):
// median, p10–p90 range in semitones, and the monotone rule. Private to speech/metrics.cpp.
#pragma once

#include <vector>

#include "speech/metrics.h"

namespace speech::pitch {

using PitchStats = decltype(Analysis::pitch);

inline constexpr double kHopS = 0.010;           // one F0 value per 10 ms
inline constexpr double kMonotoneSemitones = 2;  // spread under this in a window is monotone
inline constexpr double kWindowS = 8;            // monotone windows: 8 s, starting every 4 s

// From the F0 track (0 = unvoiced):
//  - median_hz: median of voiced frames; range_semitones: 12·log2(p90 / p10) of them.
//    Both 0 when under 0.2 s is voiced (nothing reliable to report).
//  - monotone: the track is cut into 8-second windows starting every 4 s; a window with at
//    least 1 s voiced gets a spread 12·log2(p90 / p10); monotone when the median spread is
//    under 2 semitones (so one lively or glitchy window neither makes nor breaks it). False
//    when no window has 1 s of voice.
PitchStats summarize_pitch(const std::vector<double>& f0);

// q-quantile (0..1) of values, linear between order statistics; 0 for no values.
double quantile(std::vector<double> values, double q);

}  // namespace speech::pitch
