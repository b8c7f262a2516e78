// The signal processing of the delivery analysis on generated signals: YIN pitch (sines,
// sweeps, harmonics, noise, silence, speed) and frame levels / volume statistics.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <vector>

#include "speech/metrics.h"
#include "speech/pitch.h"

namespace speech {
namespace {

constexpr int kRate = 16000;

double amplitude_of(double peak_dbfs) {
    return 32768.0 * std::pow(10.0, peak_dbfs / 20);
}

int16_t to_sample(double v) {
    return static_cast<int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}

// A tone whose frequency follows hz_at(t), phase-continuous, peak at `peak_dbfs`, with
// harmonics 1..n_harmonics at amplitudes 1/k (a crude glottal-like spectrum when n > 1).
std::vector<int16_t> synth(const std::function<double(double)>& hz_at, double seconds,
                           double peak_dbfs = -6, int n_harmonics = 1) {
    const size_t n = static_cast<size_t>(seconds * kRate);
    double norm = 0;
    for (int k = 1; k <= n_harmonics; ++k) norm += 1.0 / k;
    const double amp = amplitude_of(peak_dbfs) / norm;
    std::vector<int16_t> out(n);
    double phase = 0;
    for (size_t i = 0; i < n; ++i) {
        double v = 0;
        for (int k = 1; k <= n_harmonics; ++k) v += std::sin(k * phase) / k;
        out[i] = to_sample(amp * v);
        phase += 2 * std::numbers::pi * hz_at(static_cast<double>(i) / kRate) / kRate;
    }
    return out;
}

std::vector<int16_t> sine(double hz, double seconds, double peak_dbfs = -6) {
    return synth([hz](double) { return hz; }, seconds, peak_dbfs);
}

// Deterministic white noise (a fixed LCG, so the test never changes).
std::vector<int16_t> noise(double seconds, double peak_dbfs) {
    const size_t n = static_cast<size_t>(seconds * kRate);
    std::vector<int16_t> out(n);
    uint32_t state = 12345;
    const double amp = amplitude_of(peak_dbfs);
    for (auto& s : out) {
        state = state * 1664525u + 1013904223u;
        s = to_sample(amp * ((state >> 8) / 8388608.0 - 1.0));
    }
    return out;
}

void append(std::vector<int16_t>& a, const std::vector<int16_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
}

std::vector<double> pitch_of(const std::vector<int16_t>& s) {
    return track_pitch(s.data(), s.size(), kRate);
}

pitch::PitchStats stats_of(const std::vector<int16_t>& s) {
    return pitch::summarize_pitch(pitch_of(s));
}

double voiced_fraction(const std::vector<double>& f0) {
    if (f0.empty()) return 0;
    return static_cast<double>(
               std::count_if(f0.begin(), f0.end(), [](double v) { return v > 0; })) /
           static_cast<double>(f0.size());
}

TEST(SpeechPitch, PureSinesGiveTheirFrequencyWithin2Percent) {
    for (double hz : {110.0, 220.0, 440.0}) {
        const auto f0 = pitch_of(sine(hz, 2.0));
        EXPECT_GT(voiced_fraction(f0), 0.95) << hz;
        EXPECT_NEAR(pitch::summarize_pitch(f0).median_hz, hz, hz * 0.02) << hz;
        EXPECT_NEAR(pitch::summarize_pitch(f0).median_hz, hz, hz * 0.005) << "sub-sample " << hz;
    }
}

TEST(SpeechPitch, HarmonicRichToneIsNotAnOctaveOff) {
    for (double hz : {85.0, 150.0, 310.0}) {
        const auto st = stats_of(synth([hz](double) { return hz; }, 2.0, -6, 8));
        EXPECT_NEAR(st.median_hz, hz, hz * 0.02) << hz;
    }
}

TEST(SpeechPitch, OneFramePerTenMilliseconds) {
    // 1 s: frames start every 10 ms and need 40 ms of signal, so 97 of them.
    EXPECT_EQ(pitch_of(sine(200, 1.0)).size(), 97u);
}

// A log sweep is uniform in semitones, so its p10–p90 range is 80% of the 24 semitones.
TEST(SpeechPitch, LogSweepRangeIsEightyPercentOfTwoOctaves) {
    const auto sweep = synth([](double t) { return 100 * std::pow(4.0, t / 4); }, 4.0);
    const auto st = stats_of(sweep);
    EXPECT_NEAR(st.range_semitones, 0.8 * 24, 1.0);
    EXPECT_NEAR(st.median_hz, 200, 200 * 0.03);
}

// With a second at each end (> 10% of frames each), p10 and p90 land on 100 and 400 Hz.
TEST(SpeechPitch, SweepFrom100To400HzSpansTwentyFourSemitones) {
    const auto hz_at = [](double t) {
        if (t < 1) return 100.0;
        if (t < 5) return 100 * std::pow(4.0, (t - 1) / 4);
        return 400.0;
    };
    EXPECT_NEAR(stats_of(synth(hz_at, 6.0)).range_semitones, 24, 1.0);
}

TEST(SpeechPitch, LinearSweepIsTrackedFrameByFrame) {
    const auto f0 = pitch_of(synth([](double t) { return 100 + 75 * t; }, 4.0));
    int checked = 0;
    for (size_t i = 5; i + 5 < f0.size(); ++i) {
        const double t = i * pitch::kHopS + 0.020;  // the middle of the 40 ms frame
        ASSERT_GT(f0[i], 0) << i;
        EXPECT_NEAR(f0[i], 100 + 75 * t, (100 + 75 * t) * 0.02) << i;
        ++checked;
    }
    EXPECT_GT(checked, 350);
}

TEST(SpeechPitch, SteadyToneIsMonotone) {
    const auto st = stats_of(sine(180, 20.0));
    EXPECT_TRUE(st.monotone);
    EXPECT_LT(st.range_semitones, 0.2);
}

TEST(SpeechPitch, ToneAlternatingFourSemitonesEverySecondIsNotMonotone) {
    const auto hz_at = [](double t) {
        return 200 * std::pow(2.0, (static_cast<int>(t) % 2 == 0 ? 4.0 : -4.0) / 12);
    };
    const auto st = stats_of(synth(hz_at, 20.0));
    EXPECT_FALSE(st.monotone);
    EXPECT_NEAR(st.range_semitones, 8, 0.5);
}

TEST(SpeechPitch, ShortVoiceGivesNoMonotoneVerdict) {
    const auto st = stats_of(sine(180, 0.6));  // under 1 s voiced: no window qualifies
    EXPECT_NEAR(st.median_hz, 180, 180 * 0.02);
    EXPECT_FALSE(st.monotone);
}

TEST(SpeechPitch, SilenceHasNoPitch) {
    const std::vector<int16_t> silence(3 * kRate, 0);
    const auto f0 = pitch_of(silence);
    EXPECT_EQ(voiced_fraction(f0), 0);
    const auto st = pitch::summarize_pitch(f0);
    EXPECT_EQ(st.median_hz, 0);
    EXPECT_EQ(st.range_semitones, 0);
    EXPECT_FALSE(st.monotone);
}

TEST(SpeechPitch, WhiteNoiseIsMostlyUnvoiced) {
    EXPECT_LT(voiced_fraction(pitch_of(noise(3.0, -12))), 0.05);
}

TEST(SpeechPitch, QuietBackgroundBetweenNotesStaysUnvoiced) {
    std::vector<int16_t> s = sine(220, 1.0, -10);
    append(s, noise(1.0, -70));
    append(s, sine(220, 1.0, -10));
    const auto f0 = pitch_of(s);
    for (size_t i = 110; i < 190; ++i) EXPECT_EQ(f0[i], 0) << i;
    EXPECT_NEAR(pitch::summarize_pitch(f0).median_hz, 220, 220 * 0.02);
}

TEST(SpeechPitch, DegenerateInputsGiveAnEmptyTrack) {
    const std::vector<int16_t> s = sine(200, 0.5);
    EXPECT_TRUE(track_pitch(nullptr, 0, kRate).empty());
    EXPECT_TRUE(track_pitch(s.data(), 0, kRate).empty());
    EXPECT_TRUE(track_pitch(s.data(), 100, kRate).empty());  // shorter than one frame
    EXPECT_TRUE(track_pitch(s.data(), s.size(), 0).empty());
    EXPECT_TRUE(track_pitch(s.data(), s.size(), 1000).empty());  // Nyquist under 500 Hz
    EXPECT_TRUE(pitch::summarize_pitch({}).median_hz == 0);
}

TEST(SpeechPitch, OtherSampleRatesWork) {
    for (int rate : {8000, 22050, 44100, 48000}) {
        std::vector<int16_t> s(static_cast<size_t>(rate));
        for (size_t i = 0; i < s.size(); ++i)
            s[i] = to_sample(16000 * std::sin(2 * std::numbers::pi * 150 * i / rate));
        const auto st = pitch::summarize_pitch(track_pitch(s.data(), s.size(), rate));
        EXPECT_NEAR(st.median_hz, 150, 3) << rate;
    }
}

// A minute of speech-like signal: 300 ms harmonic "syllables" with a gliding pitch, 100 ms
// gaps of faint noise. The tracker must run in at most 5% of real time.
TEST(SpeechPitch, TracksAMinuteInUnderFivePercentOfRealTime) {
    std::vector<int16_t> s;
    for (int i = 0; s.size() < 60u * kRate; ++i) {
        const double base = 120 + 15 * (i % 7);
        append(s, synth([base](double t) { return base + 40 * t; }, 0.3, -12, 6));
        append(s, noise(0.1, -60));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto f0 = track_pitch(s.data(), s.size(), kRate);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double audio_s = static_cast<double>(s.size()) / kRate;
    std::printf("track_pitch: %.1f s of audio in %.3f s (%.2f%% of real time)\n", audio_s, secs,
                100 * secs / audio_s);
    EXPECT_LT(secs / audio_s, 0.05);
    EXPECT_GT(voiced_fraction(f0), 0.5);
}

TEST(SpeechVolume, SineAtMinus6DbfsPeakReadsMinus9DbfsRms) {
    const auto s = sine(440, 2.0, -6);
    const auto levels = frame_levels_dbfs(s.data(), s.size(), kRate);
    ASSERT_EQ(levels.size(), 40u);  // 50 ms frames
    for (double l : levels) EXPECT_NEAR(l, -9.03, 0.5);
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_NEAR(a.volume.mean_dbfs, -9.03, 0.5);
}

TEST(SpeechVolume, KnownGainsAreMeasured) {
    for (double peak : {-3.0, -12.0, -20.0, -30.0}) {
        const auto s = sine(300, 2.0, peak);
        const Analysis a = analyse({}, s.data(), s.size(), kRate);
        EXPECT_NEAR(a.volume.mean_dbfs, peak - 3.01, 0.5) << peak;
    }
}

TEST(SpeechVolume, SteadyLevelIsFlat) {
    const auto s = sine(300, 8.0, -10);
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_NEAR(a.volume.variation_db, 0, 0.1);
    EXPECT_TRUE(a.volume.flat);
}

TEST(SpeechVolume, TwoHalvesTenDbApartVary) {
    auto s = sine(300, 4.0, -6);
    append(s, sine(300, 4.0, -16));
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_NEAR(a.volume.variation_db, 5, 0.3);  // standard deviation of ±5 dB
    EXPECT_FALSE(a.volume.flat);
    EXPECT_NEAR(a.volume.mean_dbfs, -14, 0.5);  // mean of the frame levels in dB
}

TEST(SpeechVolume, BackgroundBetweenPhrasesIsLeftOut) {
    std::vector<int16_t> s;
    for (int i = 0; i < 5; ++i) {
        append(s, sine(200, 1.0, -10));
        append(s, noise(1.0, -45));
    }
    const auto levels = frame_levels_dbfs(s.data(), s.size(), kRate);
    EXPECT_EQ(levels.size(), 100u);  // the 5 seconds of tone only
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_NEAR(a.volume.mean_dbfs, -13, 0.5);
    EXPECT_TRUE(a.volume.flat);
}

TEST(SpeechVolume, TooLittleSpeechGivesNoVariationVerdict) {
    const auto s = sine(300, 2.0, -10);  // two 1-second blocks; three are needed
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_EQ(a.volume.variation_db, 0);
    EXPECT_FALSE(a.volume.flat);
}

TEST(SpeechVolume, SilenceReadsAsTheFloorWithoutInfinities) {
    const std::vector<int16_t> s(2 * kRate, 0);
    EXPECT_TRUE(frame_levels_dbfs(s.data(), s.size(), kRate).empty());
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_EQ(a.volume.mean_dbfs, -120);
    EXPECT_TRUE(std::isfinite(a.volume.variation_db));
}

TEST(SpeechVolume, ClippingIsMeasured) {
    const auto s = sine(200, 2.0, +6);  // twice full scale: clipped square-ish wave
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    EXPECT_GT(a.volume.clipped_pct, 30);
    EXPECT_LE(a.volume.mean_dbfs, 0);
    EXPECT_GT(a.volume.mean_dbfs, -3);
    EXPECT_NEAR(a.pitch.median_hz, 200, 4);
    const auto clean = sine(200, 2.0, -1);
    EXPECT_EQ(analyse({}, clean.data(), clean.size(), kRate).volume.clipped_pct, 0);
}

TEST(SpeechVolume, NoSamplesNoLevels) {
    EXPECT_TRUE(frame_levels_dbfs(nullptr, 0, kRate).empty());
    int16_t one = 1000;
    EXPECT_TRUE(frame_levels_dbfs(&one, 1, kRate).empty());
    EXPECT_TRUE(frame_levels_dbfs(&one, 1, 0).empty());
}

}  // namespace
}  // namespace speech
