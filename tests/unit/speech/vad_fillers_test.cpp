// The utterance cutter (Vad) and the filler rules on generated signals: tone bursts for
// speech, low noise or zeros for pauses, sines for voiced filled pauses, white noise for breaths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "speech/fillers.h"
#include "speech/vad.h"

namespace speech {
namespace {

constexpr int kRate = 16000;

// A voiced sound: a tone with harmonics at about -20 dBFS. With `syllables` its level dips
// 20 dB four times a second, briefly, as running speech does between syllables (a steady tone
// is not speech to the VAD: its level is the floor around it).
void append_tone(std::vector<int16_t>& out, double seconds, double hz = 150,
                 bool syllables = false) {
    const size_t n = static_cast<size_t>(seconds * kRate);
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / kRate;
        double v = 0;
        for (int h = 1; h <= 4; ++h) v += std::sin(2 * std::numbers::pi * hz * h * t) / h;
        const double phase = std::fmod(t * 4, 1.0);
        const double gain = syllables && phase > 0.8 ? 0.1 : 1.0;
        out.push_back(static_cast<int16_t>(2000 * gain * v));
    }
}

// Room noise about 50 dB under the tone; amplitude 0 gives digital silence.
void append_noise(std::vector<int16_t>& out, double seconds, int amplitude = 10,
                  unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(-amplitude, amplitude);
    const size_t n = static_cast<size_t>(seconds * kRate);
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<int16_t>(d(rng)));
}

std::vector<Span> cut(const std::vector<int16_t>& s, size_t chunk, const VadParams& p = {}) {
    Vad vad(p);
    std::vector<Span> spans;
    for (size_t at = 0; at < s.size(); at += chunk) {
        vad.push(s.data() + at, std::min(chunk, s.size() - at), spans);
    }
    vad.finish(spans);
    return spans;
}

double sec(size_t samples) {
    return static_cast<double>(samples) / kRate;
}

TEST(SpeechVad, ThreeBurstsBetweenPausesAreThreeUtterancesWithTheirPadding) {
    std::vector<int16_t> s;
    append_noise(s, 2.0);
    for (int i = 0; i < 3; ++i) {
        append_tone(s, 1.0);
        append_noise(s, 1.0, 10, static_cast<unsigned>(i + 2));
    }
    append_noise(s, 1.0, 10, 9);
    const auto spans = cut(s, 8000);
    ASSERT_EQ(spans.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        const double burst = 2.0 + 2.0 * static_cast<double>(i);
        // Each covers its burst and at most the 0.2 s padding (plus smoothing lag) around it.
        EXPECT_LE(sec(spans[i].begin), burst);
        EXPECT_GE(sec(spans[i].begin), burst - 0.3);
        EXPECT_GE(sec(spans[i].end), burst + 1.0);
        EXPECT_LE(sec(spans[i].end), burst + 1.3);
    }
}

TEST(SpeechVad, ChunkSizeDoesNotChangeTheCuts) {
    std::vector<int16_t> s;
    append_noise(s, 1.5);
    append_tone(s, 0.8);
    append_noise(s, 0.7, 10, 3);
    append_tone(s, 1.2, 200);
    append_noise(s, 2.0, 10, 4);
    const auto whole = cut(s, s.size());
    const auto small = cut(s, 37);
    ASSERT_EQ(whole.size(), 2u);
    ASSERT_EQ(small.size(), whole.size());
    for (size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(small[i].begin, whole[i].begin);
        EXPECT_EQ(small[i].end, whole[i].end);
    }
}

// Samples pushed (in 10 ms chunks) when the first utterance came out.
size_t pushed_when_first_span(const std::vector<int16_t>& s, const VadParams& p) {
    Vad vad(p);
    std::vector<Span> spans;
    for (size_t at = 0; at < s.size() && spans.empty(); at += 160) {
        vad.push(s.data() + at, std::min<size_t>(160, s.size() - at), spans);
        if (!spans.empty()) return at + 160;
    }
    return s.size() + 1;
}

TEST(SpeechVad, ShortLookaheadAnswersSoonerWithTheSameCuts) {
    std::vector<int16_t> s;
    append_noise(s, 2.0);
    append_tone(s, 1.0, 150, true);
    append_noise(s, 2.5, 10, 7);
    VadParams live;
    live.lookahead_s = 0.5;
    const VadParams recorded;
    // The speech ends at 3.0 s; a pause counts from min_pause_s of quiet, then the lookahead.
    const double spoken_end = 3.0;
    EXPECT_LE(sec(pushed_when_first_span(s, live)),
              spoken_end + live.min_pause_s + live.lookahead_s + 0.1);
    EXPECT_GE(sec(pushed_when_first_span(s, recorded)),
              spoken_end + recorded.min_pause_s + recorded.floor_window_s / 2);
    const auto a = cut(s, 160, live);
    const auto b = cut(s, 160, recorded);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].begin, b[0].begin);
    EXPECT_EQ(a[0].end, b[0].end);
}

TEST(SpeechVad, SilenceAndNoiseAloneGiveNoUtterance) {
    std::vector<int16_t> s;
    append_noise(s, 5.0);
    append_noise(s, 2.0, 0);
    EXPECT_TRUE(cut(s, 4000).empty());
    EXPECT_TRUE(cut({}, 4000).empty());
}

TEST(SpeechVad, ClickShorterThanMinSpeechIsNotDecoded) {
    std::vector<int16_t> s;
    append_noise(s, 2.0);
    append_tone(s, 0.01);
    append_noise(s, 2.0, 10, 5);
    EXPECT_TRUE(cut(s, 8000).empty());
}

TEST(SpeechVad, DigitalSilenceBetweenSentencesStillSeparatesThem) {
    std::vector<int16_t> s;
    append_noise(s, 1.0);
    append_tone(s, 1.0);
    append_noise(s, 1.0, 0);
    append_tone(s, 1.0);
    append_noise(s, 1.0);
    EXPECT_EQ(cut(s, 8000).size(), 2u);
}

TEST(SpeechVad, SpeechWithoutPausesIsCutIntoBoundedContiguousPieces) {
    std::vector<int16_t> s;
    append_noise(s, 1.0);
    append_tone(s, 75.0, 150, true);
    append_noise(s, 1.0, 10, 6);
    VadParams p;
    const auto spans = cut(s, 8000, p);
    ASSERT_GE(spans.size(), 3u);
    for (size_t i = 0; i < spans.size(); ++i) {
        EXPECT_LE(sec(spans[i].end - spans[i].begin), p.max_utterance_s + 2 * p.pad_s);
        if (i > 0) {
            EXPECT_EQ(spans[i].begin, spans[i - 1].end) << i;  // nothing lost at a cut
        }
    }
    EXPECT_LE(sec(spans.front().begin), 1.0);
    EXPECT_GE(sec(spans.back().end), 76.0);
}

fillers::Decoded segment(const std::string& token, const std::vector<int16_t>& audio,
                         double confidence = 0.9) {
    fillers::Decoded d;
    d.token = token;
    d.duration_s = sec(audio.size());
    d.confidence = confidence;
    d.samples = {audio.data(), audio.size()};
    return d;
}

TEST(SpeechFillers, LexiconTokensAreDistinctAndMapToCanonicalSpellings) {
    std::set<std::string> tokens;
    for (const auto& e : fillers::lexicon()) {
        EXPECT_TRUE(tokens.insert(e.token).second) << e.token;
        ASSERT_TRUE(fillers::canonical(e.token)) << e.token;
        EXPECT_EQ(*fillers::canonical(e.token), e.canonical);
        EXPECT_GT(e.lm_weight, 0);
        EXPECT_NE(std::string(e.phones), "");
    }
    EXPECT_EQ(fillers::canonical("umm"), "um");
    EXPECT_EQ(fillers::canonical("hm"), "hmm");
    EXPECT_FALSE(fillers::canonical("hum"));
    EXPECT_FALSE(fillers::canonical("the"));
}

TEST(SpeechFillers, DecodedFillerWordsBecomeFillersUnlessTooShort) {
    std::vector<int16_t> long_one, short_one;
    append_tone(long_one, 0.3);
    append_tone(short_one, 0.05);
    const fillers::Rules rules;
    const auto um = fillers::classify(rules, segment("++um++", long_one), true);
    ASSERT_TRUE(um);
    EXPECT_EQ(um->spelling, "um");
    EXPECT_TRUE(um->filler);
    const auto stock = fillers::classify(rules, segment("uh", long_one), false);
    ASSERT_TRUE(stock);
    EXPECT_TRUE(stock->filler);
    EXPECT_FALSE(fillers::classify(rules, segment("++uh++", short_one), true));
}

TEST(SpeechFillers, VoicedConfidentGarbageOfFillerLengthIsAFilledPause) {
    std::vector<int16_t> voiced, breath, held;
    append_tone(voiced, 0.4, 120);
    append_noise(breath, 0.4, 3000);
    append_tone(held, 2.5, 120);
    const fillers::Rules rules;
    const auto uh = fillers::classify(rules, segment("[speech]", voiced), true);
    ASSERT_TRUE(uh);
    EXPECT_TRUE(uh->filler);
    EXPECT_EQ(uh->spelling, "uh");
    EXPECT_FALSE(fillers::classify(rules, segment("[speech]", voiced), false));  // detection off
    EXPECT_FALSE(fillers::classify(rules, segment("[speech]", voiced, 0.2), true));
    EXPECT_FALSE(fillers::classify(rules, segment("[noise]", breath), true));
    EXPECT_FALSE(fillers::classify(rules, segment("[speech]", held), true));  // a held word
}

TEST(SpeechFillers, OrdinaryWordsStayWordsAndMarkersVanish) {
    std::vector<int16_t> a;
    append_tone(a, 0.3);
    const fillers::Rules rules;
    const auto word = fillers::classify(rules, segment("forward", a), true);
    ASSERT_TRUE(word);
    EXPECT_EQ(word->spelling, "forward");
    EXPECT_FALSE(word->filler);
    for (const char* marker : {"<s>", "</s>", "<sil>", "[noise]", ""}) {
        std::vector<int16_t> quiet;
        append_noise(quiet, 0.3, 5);
        EXPECT_FALSE(fillers::classify(rules, segment(marker, quiet), true)) << marker;
    }
}

TEST(SpeechFillers, TouchingFillerPiecesMergeIntoTheLongerOnesSpelling) {
    std::vector<Word> words{{"so", 0.0, 0.3, 0.9, false},
                            {"uh", 0.3, 0.4, 0.5, true},
                            {"um", 0.41, 0.9, 0.7, true},
                            {"um", 1.5, 1.8, 0.6, true},
                            {"right", 1.8, 2.1, 0.9, false}};
    fillers::merge_adjacent(words);
    ASSERT_EQ(words.size(), 4u);
    EXPECT_EQ(words[1].word, "um");
    EXPECT_DOUBLE_EQ(words[1].start_s, 0.3);
    EXPECT_DOUBLE_EQ(words[1].end_s, 0.9);
    EXPECT_DOUBLE_EQ(words[1].confidence, 0.7);
    EXPECT_DOUBLE_EQ(words[2].start_s, 1.5);  // 0.6 s later: a filler of its own
}

TEST(SpeechFillers, VoicingTellsVowelsFromNoise) {
    std::vector<int16_t> vowel, noise;
    append_tone(vowel, 0.5, 110);
    append_noise(noise, 0.5, 3000);
    EXPECT_GT(fillers::voiced_fraction(vowel.data(), vowel.size(), kRate), 0.9);
    EXPECT_LT(fillers::voiced_fraction(noise.data(), noise.size(), kRate), 0.2);
    EXPECT_EQ(fillers::voiced_fraction(vowel.data(), 100, kRate), 0.0);  // shorter than a frame
}

}  // namespace
}  // namespace speech
