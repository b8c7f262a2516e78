// analyse() and analysis_json(): timing, pauses, rates, fillers, hedges and repeats on
// hand-built transcripts, API.md's JSON shape, and edge cases that must not give NaN.
#include "speech/metrics.h"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

namespace speech {
namespace {

constexpr int kRate = 16000;

struct Spoken {
    const char* word;
    double start, end;
    double confidence = 0.9;
    bool filler = false;
};

Transcript transcript_of(const std::vector<Spoken>& spoken) {
    Transcript t;
    for (const Spoken& s : spoken) {
        t.words.push_back({s.word, s.start, s.end, s.confidence, s.filler});
        t.text += (t.text.empty() ? "" : " ") + std::string(s.word);
    }
    t.engine = "test";
    return t;
}

// Words of 0.5 s separated by the given silences, starting at `start`.
Transcript with_gaps(const std::vector<double>& gaps, double start = 1.0) {
    std::vector<Spoken> spoken;
    double t = start;
    for (size_t i = 0; i <= gaps.size(); ++i) {
        spoken.push_back({"word", t, t + 0.5});
        if (i < gaps.size()) t += 0.5 + gaps[i];
    }
    return transcript_of(spoken);
}

Analysis analyse_text(const Transcript& t) {
    return analyse(t, nullptr, 0, kRate);
}

// Times that are multiples of 1/8 s, so the arithmetic below is exact.
TEST(SpeechPauses, CountedFrom250MsLongFromOneSecond) {
    const Analysis a = analyse_text(with_gaps({0.125, 0.25, 0.5, 1.0, 2.0, 0.0}));
    EXPECT_EQ(a.pauses.count, 4);
    EXPECT_EQ(a.pauses.long_count, 2);
    EXPECT_DOUBLE_EQ(a.pauses.longest_s, 2.0);
    EXPECT_DOUBLE_EQ(a.pauses.mean_s, (0.25 + 0.5 + 1.0 + 2.0) / 4);
    // span: 7 words of 0.5 s + 3.875 s of gaps
    EXPECT_DOUBLE_EQ(a.pauses.per_min, 4 * 60 / 7.375);
    EXPECT_DOUBLE_EQ(a.pauses.long_per_min, 2 * 60 / 7.375);
}

TEST(SpeechPauses, LeadingAndTrailingSilenceAreNotPauses) {
    const Analysis a = analyse_text(with_gaps({0.125}, 30.0));
    EXPECT_EQ(a.pauses.count, 0);
    EXPECT_EQ(a.pauses.longest_s, 0);
    EXPECT_EQ(a.pauses.mean_s, 0);
}

TEST(SpeechPauses, OverlappingWordsLeaveNoGap) {
    const Analysis a = analyse_text(transcript_of({{"a", 0, 2}, {"b", 0.5, 1}, {"c", 2.125, 3}}));
    EXPECT_EQ(a.pauses.count, 0);  // "c" starts 125 ms after "a" ends, not after "b"
}

TEST(SpeechRate, WpmOverTheSpanAndArticulationWithoutPauses) {
    const Analysis a = analyse_text(with_gaps({0.125, 0.25, 0.5, 1.0, 2.0}));
    // 6 words; span 3 + 3.875 = 6.875 s; pauses 3.75 s; speech 3.125 s
    EXPECT_EQ(a.word_count, 6);
    EXPECT_DOUBLE_EQ(a.speech_s, 3.125);
    EXPECT_DOUBLE_EQ(a.wpm, 6 * 60 / 6.875);
    EXPECT_DOUBLE_EQ(a.articulation_wpm, 6 * 60 / 3.125);
    EXPECT_EQ(a.duration_s, 1.0 + 6.875);  // no audio: up to the last word
}

TEST(SpeechRate, DurationComesFromTheSamples) {
    const std::vector<int16_t> s(kRate * 10, 0);
    const Analysis a = analyse(with_gaps({0.125}), s.data(), s.size(), kRate);
    EXPECT_DOUBLE_EQ(a.duration_s, 10.0);
}

TEST(SpeechRate, PaceBands) {
    // 150 words evenly over 60 s (0.4 s per word) is "good".
    std::vector<Spoken> spoken;
    for (int i = 0; i < 150; ++i) spoken.push_back({"word", i * 0.4, i * 0.4 + 0.4});
    const Analysis a = analyse_text(transcript_of(spoken));
    EXPECT_DOUBLE_EQ(a.wpm, 150);
    EXPECT_EQ(a.pace_band, "good");
    EXPECT_EQ(a.scores.pace, 100);
}

TEST(SpeechFillers, FlaggedOrSpelledAsFillers) {
    const Analysis a = analyse_text(transcript_of({
        {"so", 0, 0.5},
        {"um", 0.5, 1.0},               // not flagged, but a filler spelling
        {"like", 1.0, 1.5, 0.9, true},  // flagged by the recognizer
        {"we", 1.5, 2.0},
        {"UH", 2.0, 2.5, 0.4},  // case does not matter
        {"ship", 2.5, 3.0},
        {"um", 3.0, 3.5, 0.2, true},
        {"today", 3.5, 4.0},
    }));
    EXPECT_EQ(a.fillers.count, 4);
    EXPECT_EQ(a.word_count, 4);  // fillers are not words
    EXPECT_EQ(a.fillers.words.at("um"), 2);
    EXPECT_EQ(a.fillers.words.at("uh"), 1);
    EXPECT_EQ(a.fillers.words.at("like"), 1);
    EXPECT_DOUBLE_EQ(a.fillers.per_100_words, 50);  // 4 of the 8 words spoken
    EXPECT_DOUBLE_EQ(a.fillers.per_min, 4 * 60 / 4.0);
    EXPECT_DOUBLE_EQ(a.confidence, 0.9);  // fillers' confidences are left out
    EXPECT_DOUBLE_EQ(a.wpm, 4 * 60 / 4.0);
}

TEST(SpeechFillers, ClustersOfThreeWithinTenSeconds) {
    std::vector<Spoken> spoken;
    // Fillers at 0, 2, 4 (a cluster); 30 alone; 50, 52, 54, 56 (one cluster, overlapping
    // windows); 80 and 95 (too far apart).
    for (double t : {0.0, 2.0, 4.0, 30.0, 50.0, 52.0, 54.0, 56.0, 80.0, 95.0}) {
        spoken.push_back({"um", t, t + 0.3});
        spoken.push_back({"word", t + 0.5, t + 1.0});
    }
    const Analysis a = analyse_text(transcript_of(spoken));
    EXPECT_EQ(a.fillers.count, 10);
    EXPECT_EQ(a.fillers.clusters, 2);
    EXPECT_DOUBLE_EQ(a.fillers.per_100_words, 50);
}

TEST(SpeechFillers, ThreeFillersJustOverTenSecondsAreNoCluster) {
    const Analysis a = analyse_text(
        transcript_of({{"um", 0, 0.2}, {"uh", 5, 5.2}, {"er", 10.25, 10.5}, {"word", 11, 11.5}}));
    EXPECT_EQ(a.fillers.clusters, 0);
}

TEST(SpeechHedgesInAnalysis, CountedOnTheWordSequenceSkippingFillers) {
    const Analysis a = analyse_text(transcript_of({
        {"I", 0, 0.2},
        {"um", 0.2, 0.4},
        {"think", 0.4, 0.6},
        {"it's", 0.6, 0.8},
        {"sort", 0.8, 1.0},
        {"of", 1.0, 1.2},
        {"done", 1.2, 1.4},
        {"maybe", 1.4, 1.6},
        {"I", 1.6, 1.8},
        {"THINK", 1.8, 2.0},
    }));
    EXPECT_EQ(a.hedges.count, 4);
    EXPECT_EQ(a.hedges.words.at("i think"), 2);
    EXPECT_EQ(a.hedges.words.at("sort of"), 1);
    EXPECT_EQ(a.hedges.words.at("maybe"), 1);
    EXPECT_DOUBLE_EQ(a.hedges.per_100_words, 4 * 100.0 / 9);
}

TEST(SpeechHedgesInAnalysis, CallerSuppliedLexicon) {
    const Transcript t = transcript_of({{"frankly", 0, 0.5}, {"i", 0.5, 1}, {"think", 1, 1.5}});
    const Analysis a = analyse(t, nullptr, 0, kRate, parse_hedges("frankly\n"));
    EXPECT_EQ(a.hedges.count, 1);
    EXPECT_EQ(a.hedges.words.count("i think"), 0u);
}

TEST(SpeechVocabularyInAnalysis, RepeatedPhrasesAndUniqueRatio) {
    std::vector<Spoken> spoken;
    double t = 0;
    for (const char* w :
         {"the", "new", "release", "is", "out", "and", "the", "new", "release", "is", "fast"}) {
        spoken.push_back({w, t, t + 0.3});
        t += 0.4;
    }
    const Analysis a = analyse_text(transcript_of(spoken));
    ASSERT_EQ(a.vocabulary.repeated_phrases.size(), 1u);
    EXPECT_EQ(a.vocabulary.repeated_phrases[0], "the new release is");
    EXPECT_EQ(a.vocabulary.repeated_counts[0], 2);
    EXPECT_DOUBLE_EQ(a.vocabulary.unique_ratio, 7.0 / 11);
}

TEST(SpeechTranscript, MessyInputIsCleaned) {
    Transcript t = transcript_of({
        {"world", 1.0, 1.5},
        {"<sil>", 1.5, 3.0},
        {"hello", 0.0, 0.5},         // out of order
        {"nan", std::nan(""), 2.0},  // unusable times
        {"back", 3.0, 2.5, 7.0},     // end before start, confidence > 1
        {"[noise]", 3.0, 3.1},
    });
    const Analysis a = analyse_text(t);
    EXPECT_EQ(a.word_count, 3);
    EXPECT_EQ(a.pauses.count, 2);  // 0.5→1.0 and 1.5→3.0
    EXPECT_DOUBLE_EQ(a.pauses.longest_s, 1.5);
    EXPECT_NEAR(a.confidence, (0.9 + 0.9 + 1.0) / 3, 1e-12);
}

// ---- edge cases ----

bool all_finite(const Analysis& a) {
    for (double v : {a.duration_s, a.speech_s, a.wpm, a.articulation_wpm, a.fillers.per_min,
                     a.fillers.per_100_words, a.pauses.longest_s, a.pauses.mean_s, a.pauses.per_min,
                     a.pauses.long_per_min, a.pitch.median_hz, a.pitch.range_semitones,
                     a.volume.mean_dbfs, a.volume.variation_db, a.volume.clipped_pct, a.confidence,
                     a.vocabulary.unique_ratio, a.hedges.per_100_words})
        if (!std::isfinite(v)) return false;
    return true;
}

void expect_sane(const Analysis& a) {
    EXPECT_TRUE(all_finite(a));
    EXPECT_GE(a.tips.size(), 2u);
    EXPECT_LE(a.tips.size(), 5u);
    for (int s : {a.scores.pace, a.scores.fluency, a.scores.clarity, a.scores.confidence,
                  a.scores.overall}) {
        EXPECT_GE(s, 0);
        EXPECT_LE(s, 100);
    }
    // pace_band is the only field that may be null (no words: no band).
    if (!a.pace_band.empty()) {
        EXPECT_EQ(analysis_json(a).find("null"), std::string::npos);
    }
}

TEST(SpeechEdgeCases, EmptyTranscriptAndNoSamples) {
    const Analysis a = analyse({}, nullptr, 0, kRate);
    expect_sane(a);
    EXPECT_EQ(a.word_count, 0);
    EXPECT_EQ(a.wpm, 0);
    EXPECT_EQ(a.scores.overall, 0);
    EXPECT_EQ(a.pace_band, "");
    EXPECT_EQ(a.tips.size(), 2u);
}

TEST(SpeechEdgeCases, AllSilence) {
    const std::vector<int16_t> s(kRate * 5, 0);
    const Analysis a = analyse({}, s.data(), s.size(), kRate);
    expect_sane(a);
    EXPECT_EQ(a.pitch.median_hz, 0);
    EXPECT_DOUBLE_EQ(a.duration_s, 5);
}

TEST(SpeechEdgeCases, OneWord) {
    const Analysis a = analyse_text(transcript_of({{"hello", 0.5, 1.0}}));
    expect_sane(a);
    EXPECT_EQ(a.word_count, 1);
    EXPECT_DOUBLE_EQ(a.wpm, 120);
    EXPECT_EQ(a.pauses.count, 0);
    EXPECT_EQ(a.vocabulary.unique_ratio, 1);
}

TEST(SpeechEdgeCases, ZeroLengthWordsAndOnlyFillers) {
    expect_sane(analyse_text(transcript_of({{"hi", 1, 1}})));
    const Analysis a = analyse_text(transcript_of({{"um", 0, 0.5}, {"uh", 1, 1.5}}));
    expect_sane(a);
    EXPECT_EQ(a.word_count, 0);
    EXPECT_EQ(a.fillers.count, 2);
    EXPECT_DOUBLE_EQ(a.fillers.per_100_words, 100);
}

TEST(SpeechEdgeCases, ClippedAudio) {
    std::vector<int16_t> s(kRate * 4);
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = std::sin(2 * std::numbers::pi * 150 * i / kRate) > 0 ? 32767 : -32768;
    const Analysis a = analyse(with_gaps({0.125, 0.125}), s.data(), s.size(), kRate);
    expect_sane(a);
    EXPECT_GT(a.volume.clipped_pct, 90);
    EXPECT_NE(analysis_json(a).find("clipped"), std::string::npos);
    bool clipping_tip = false;
    for (const auto& t : a.tips) clipping_tip |= t.find("clipped") != std::string::npos;
    EXPECT_TRUE(clipping_tip);
}

TEST(SpeechEdgeCases, NonsenseSampleRate) {
    const std::vector<int16_t> s(1000, 100);
    expect_sane(analyse({}, s.data(), s.size(), 0));
    expect_sane(analyse({}, s.data(), s.size(), -16000));
    expect_sane(analyse({}, s.data(), s.size(), 1));
}

// ---- JSON ----

using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

JsonPtr parse(const std::string& text) {
    return JsonPtr(cJSON_Parse(text.c_str()), cJSON_Delete);
}

const cJSON* at(const cJSON* root, const std::string& path) {
    const cJSON* node = root;
    size_t from = 0;
    while (node != nullptr && from <= path.size()) {
        const size_t dot = std::min(path.find('.', from), path.size());
        node = cJSON_GetObjectItemCaseSensitive(node, path.substr(from, dot - from).c_str());
        from = dot + 1;
    }
    return node;
}

enum class Type { number, integer, boolean, object, array, string };

void expect_type(const cJSON* root, const std::string& path, Type type) {
    const cJSON* n = at(root, path);
    ASSERT_NE(n, nullptr) << path;
    switch (type) {
        case Type::number:
            EXPECT_TRUE(cJSON_IsNumber(n)) << path;
            break;
        case Type::integer:
            EXPECT_TRUE(cJSON_IsNumber(n) && n->valuedouble == std::floor(n->valuedouble)) << path;
            break;
        case Type::boolean:
            EXPECT_TRUE(cJSON_IsBool(n)) << path;
            break;
        case Type::object:
            EXPECT_TRUE(cJSON_IsObject(n)) << path;
            break;
        case Type::array:
            EXPECT_TRUE(cJSON_IsArray(n)) << path;
            break;
        case Type::string:
            EXPECT_TRUE(cJSON_IsString(n)) << path;
            break;
    }
}

// Every key API.md lists for the Analysis object, with its type.
void expect_api_shape(const cJSON* root) {
    const std::vector<std::pair<std::string, Type>> keys = {
        {"duration_s", Type::number},
        {"speech_s", Type::number},
        {"word_count", Type::integer},
        {"wpm", Type::number},
        {"articulation_wpm", Type::number},
        {"fillers", Type::object},
        {"fillers.count", Type::integer},
        {"fillers.per_min", Type::number},
        {"fillers.words", Type::object},
        {"pauses", Type::object},
        {"pauses.count", Type::integer},
        {"pauses.long_count", Type::integer},
        {"pauses.longest_s", Type::number},
        {"pauses.mean_s", Type::number},
        {"pitch", Type::object},
        {"pitch.median_hz", Type::number},
        {"pitch.range_semitones", Type::number},
        {"pitch.monotone", Type::boolean},
        {"volume", Type::object},
        {"volume.mean_dbfs", Type::number},
        {"volume.variation_db", Type::number},
        {"confidence", Type::number},
        {"vocabulary", Type::object},
        {"vocabulary.unique_ratio", Type::number},
        {"vocabulary.repeated_phrases", Type::array},
        {"hedges", Type::object},
        {"hedges.count", Type::integer},
        {"hedges.words", Type::object},
        {"scores", Type::object},
        {"scores.pace", Type::integer},
        {"scores.fluency", Type::integer},
        {"scores.clarity", Type::integer},
        {"scores.confidence", Type::integer},
        {"scores.overall", Type::integer},
        {"tips", Type::array},
        // the documented additions
        {"fillers.per_100_words", Type::number},
        {"fillers.clusters", Type::integer},
        {"pauses.per_min", Type::number},
        {"pauses.long_per_min", Type::number},
        {"volume.flat", Type::boolean},
        {"volume.clipped_pct", Type::number},
        {"hedges.per_100_words", Type::number},
    };
    for (const auto& [path, type] : keys) expect_type(root, path, type);
}

// A synthetic talk: a voiced tone under words, with fillers, hedges, pauses and a repeat.
Analysis sample_analysis() {
    std::vector<int16_t> s(kRate * 12);
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * 140 * i / kRate));
    const Transcript t = transcript_of({
        {"i", 0.5, 0.7},
        {"think", 0.7, 1.0},
        {"the", 1.0, 1.1},
        {"new", 1.1, 1.4},
        {"plan", 1.4, 1.8},
        {"um", 2.0, 2.4, 0.5, true},
        {"works", 3.6, 4.0},
        {"the", 4.1, 4.2},
        {"new", 4.2, 4.5},
        {"plan", 4.5, 4.9},
        {"is", 5.0, 5.1},
        {"sort", 5.2, 5.4},
        {"of", 5.4, 5.5},
        {"cheaper", 5.5, 6.0},
        {"\"quoted\"", 6.0, 6.5},
    });
    return analyse(t, s.data(), s.size(), kRate);
}

TEST(SpeechJson, HasEveryKeyOfApiMdWithTheRightTypes) {
    const Analysis a = sample_analysis();
    const std::string json = analysis_json(a);
    const JsonPtr root = parse(json);
    ASSERT_NE(root, nullptr) << json;
    expect_api_shape(root.get());
    EXPECT_EQ(at(root.get(), "fillers.words.um")->valueint, 1);
    EXPECT_EQ(at(root.get(), "hedges.words.i think")->valueint, 1);
    EXPECT_STREQ(cJSON_GetArrayItem(at(root.get(), "vocabulary.repeated_phrases"), 0)->valuestring,
                 "the new plan");
    EXPECT_STREQ(at(root.get(), "pace_band")->valuestring, a.pace_band.c_str());
    const int tips = cJSON_GetArraySize(at(root.get(), "tips"));
    EXPECT_GE(tips, 2);
    EXPECT_LE(tips, 5);
    EXPECT_NEAR(at(root.get(), "pitch.median_hz")->valuedouble, 140, 3);
}

TEST(SpeechJson, NumbersAreRoundedToTwoDecimals) {
    Analysis a;
    a.wpm = 142.85714285714286;
    a.confidence = 0.87654;
    a.pauses.mean_s = std::nan("");  // never produced by analyse(), but never written as NaN
    const JsonPtr root = parse(analysis_json(a));
    ASSERT_NE(root, nullptr);
    EXPECT_DOUBLE_EQ(at(root.get(), "wpm")->valuedouble, 142.86);
    EXPECT_DOUBLE_EQ(at(root.get(), "confidence")->valuedouble, 0.88);
    EXPECT_DOUBLE_EQ(at(root.get(), "pauses.mean_s")->valuedouble, 0);
}

TEST(SpeechJson, EmptyInputStillHasTheFullShape) {
    const std::string json = analysis_json(analyse({}, nullptr, 0, kRate));
    const JsonPtr root = parse(json);
    ASSERT_NE(root, nullptr) << json;
    expect_api_shape(root.get());
    EXPECT_TRUE(cJSON_IsNull(at(root.get(), "pace_band")));
    EXPECT_EQ(json.find("nan"), std::string::npos);
    EXPECT_EQ(json.find("inf"), std::string::npos);
}

TEST(SpeechJson, KeysAndTipsAreEscaped) {
    Analysis a;
    a.hedges.words["say \"so\""] = 1;
    a.tips = {"Use “quotes” and a \\ backslash"};
    const JsonPtr root = parse(analysis_json(a));
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(at(root.get(), "hedges.words")->child->valueint, 1);
}

}  // namespace
}  // namespace speech
