// The score formulas, pace bands and tip selection of the delivery analysis, checked at the
// points docs/analysis.md gives.
#include "speech/scoring.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace speech::scoring {
namespace {

bool any_contains(const std::vector<std::string>& tips, const std::string& needle) {
    for (const auto& t : tips)
        if (t.find(needle) != std::string::npos) return true;
    return false;
}

// A clean, measured talk: every metric inside its norm.
Analysis good_talk() {
    Analysis a;
    a.duration_s = 125;
    a.speech_s = 100;
    a.word_count = 300;
    a.wpm = 150;
    a.articulation_wpm = 180;
    a.fillers.count = 3;
    a.fillers.per_100_words = 1;
    a.fillers.words = {{"um", 3}};
    a.pauses.long_count = 2;
    a.pauses.long_per_min = 1;
    a.pitch = {160, 9, false};
    a.volume.mean_dbfs = -20;
    a.volume.variation_db = 6;
    a.confidence = 0.95;
    return a;
}

TEST(SpeechScoring, PaceIsFullInsideTheBandAndLinearOutside) {
    EXPECT_DOUBLE_EQ(pace_score(0), 0);
    EXPECT_DOUBLE_EQ(pace_score(60), 0);
    EXPECT_DOUBLE_EQ(pace_score(90), 50);
    EXPECT_DOUBLE_EQ(pace_score(120), 100);
    EXPECT_DOUBLE_EQ(pace_score(150), 100);
    EXPECT_DOUBLE_EQ(pace_score(165), 100);
    EXPECT_DOUBLE_EQ(pace_score(202.5), 50);
    EXPECT_DOUBLE_EQ(pace_score(240), 0);
    EXPECT_DOUBLE_EQ(pace_score(400), 0);
}

TEST(SpeechScoring, PaceBands) {
    EXPECT_EQ(pace_band(99.9, 10), "too_slow");
    EXPECT_EQ(pace_band(100, 10), "slow");
    EXPECT_EQ(pace_band(119.9, 10), "slow");
    EXPECT_EQ(pace_band(120, 10), "good");
    EXPECT_EQ(pace_band(165, 10), "good");
    EXPECT_EQ(pace_band(165.1, 10), "fast");
    EXPECT_EQ(pace_band(180, 10), "fast");
    EXPECT_EQ(pace_band(180.1, 10), "too_fast");
    EXPECT_EQ(pace_band(0, 0), "");
}

TEST(SpeechScoring, SubScoresAtTheirDocumentedPoints) {
    EXPECT_DOUBLE_EQ(filler_score(0), 100);
    EXPECT_DOUBLE_EQ(filler_score(2), 100);
    EXPECT_DOUBLE_EQ(filler_score(5), 60);
    EXPECT_DOUBLE_EQ(filler_score(10), 30);
    EXPECT_DOUBLE_EQ(filler_score(15), 0);
    EXPECT_DOUBLE_EQ(long_pause_score(2), 100);
    EXPECT_DOUBLE_EQ(long_pause_score(6), 50);
    EXPECT_DOUBLE_EQ(long_pause_score(10), 0);
    EXPECT_DOUBLE_EQ(clarity_score(0.3), 0);
    EXPECT_DOUBLE_EQ(clarity_score(0.6), 50);
    EXPECT_DOUBLE_EQ(clarity_score(0.9), 100);
    EXPECT_DOUBLE_EQ(clarity_score(1.0), 100);
    EXPECT_DOUBLE_EQ(hedge_score(1), 100);
    EXPECT_DOUBLE_EQ(hedge_score(4), 50);
    EXPECT_DOUBLE_EQ(hedge_score(8), 0);
    EXPECT_DOUBLE_EQ(volume_variation_score(0), 40);
    EXPECT_DOUBLE_EQ(volume_variation_score(3), 80);
    EXPECT_DOUBLE_EQ(volume_variation_score(9), 100);
    EXPECT_DOUBLE_EQ(pitch_range_score(2, false), 30);
    EXPECT_DOUBLE_EQ(pitch_range_score(5, false), 80);
    EXPECT_DOUBLE_EQ(pitch_range_score(8, false), 100);
    EXPECT_DOUBLE_EQ(pitch_range_score(8, true), 50);
}

TEST(SpeechScoring, CombinedScoresFollowTheWeights) {
    Analysis a = good_talk();
    a.wpm = 202.5;                 // pace 50
    a.fillers.per_100_words = 10;  // fillers 30
    a.pauses.long_per_min = 6;     // long pauses 50 → fluency 0.7·30 + 0.3·50 = 36
    a.confidence = 0.6;            // clarity 50
    a.hedges.per_100_words = 4;    // hedges 50
    a.volume.variation_db = 3;     // volume 80
    a.pitch.range_semitones = 5;   // pitch 80 → confidence 0.5·50 + 0.25·80 + 0.25·80 = 65
    const Scores s = score(a);
    EXPECT_EQ(s.pace, 50);
    EXPECT_EQ(s.fluency, 36);
    EXPECT_EQ(s.clarity, 50);
    EXPECT_EQ(s.confidence, 65);
    // 0.25·50 + 0.30·36 + 0.20·50 + 0.25·65 = 49.55
    EXPECT_EQ(s.overall, 50);
}

TEST(SpeechScoring, UnmeasuredVoiceLeavesConfidenceToHedges) {
    Analysis a = good_talk();
    a.hedges.per_100_words = 4;  // 50
    a.pitch = {};
    a.volume = {};
    EXPECT_EQ(score(a).confidence, 50);
}

TEST(SpeechScoring, NoWordsScoresZero) {
    Analysis a;
    const Scores s = score(a);
    EXPECT_EQ(s.pace + s.fluency + s.clarity + s.confidence + s.overall, 0);
}

TEST(SpeechTips, GoodTalkGetsTwoEncouragements) {
    const auto t = tips(good_talk());
    ASSERT_EQ(t.size(), 2u);
    EXPECT_TRUE(any_contains(t, "150 words per minute"));
    EXPECT_TRUE(any_contains(t, "1.0 fillers per 100 words"));
}

TEST(SpeechTips, FastPaceTipQuotesTheNumbers) {
    Analysis a = good_talk();
    a.wpm = 190;
    const auto t = tips(a);
    ASSERT_GE(t.size(), 2u);
    EXPECT_EQ(t[0],
              "You averaged 190 words per minute; aim for 120–165: pause after key points "
              "so they land.");
}

TEST(SpeechTips, WeakestMetricFirstAndAtMostFive) {
    Analysis a = good_talk();
    a.wpm = 230;                                        // pace 13
    a.fillers = {12, 6, 8, {{"um", 9}, {"uh", 3}}, 2};  // fillers 48
    a.pauses.long_count = 20;
    a.pauses.long_per_min = 8;                           // 25
    a.hedges = {10, {{"i think", 7}, {"maybe", 3}}, 6};  // 25
    a.pitch = {150, 1.5, true};
    a.volume = {-40, 1, true, 0};
    a.confidence = 0.5;
    a.vocabulary.repeated_phrases = {"at the end"};
    a.vocabulary.repeated_counts = {4};
    const auto t = tips(a);
    ASSERT_EQ(t.size(), 5u);
    EXPECT_NE(t[0].find("230 words per minute"), std::string::npos);
    EXPECT_TRUE(any_contains(t, "“i think” (7 times)"));
    EXPECT_TRUE(any_contains(t, "20 times (8.0 per minute"));
}

TEST(SpeechTips, EachProblemHasItsTip) {
    const auto with = [](auto change) {
        Analysis a = good_talk();
        change(a);
        return tips(a);
    };
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.wpm = 90; }), "90 words per minute"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) {
                                 a.fillers.count = 12;
                                 a.fillers.per_100_words = 4;
                             }),
                             "12 fillers (4.0 per 100 words), most often “um” (3 times)"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.fillers.clusters = 2; }), "twice"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.pitch.monotone = true; }), "2 semitones"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) {
                                 a.volume.variation_db = 1.5;
                                 a.volume.flat = true;
                             }),
                             "only 1.5 dB"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.confidence = 0.55; }), "55% sure"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.volume.mean_dbfs = -42; }), "-42 dBFS"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.volume.clipped_pct = 3; }), "3.0% of"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) { a.speech_s = 12; }), "12 seconds"));
    EXPECT_TRUE(any_contains(with([](Analysis& a) {
                                 a.vocabulary.repeated_phrases = {"moving forward"};
                                 a.vocabulary.repeated_counts = {5};
                             }),
                             "“moving forward” 5 times"));
}

TEST(SpeechTips, NoWordsExplainsWhat) {
    const auto t = tips(Analysis{});
    ASSERT_EQ(t.size(), 2u);
    EXPECT_TRUE(any_contains(t, "microphone"));
}

}  // namespace
}  // namespace speech::scoring
