// The text side of the delivery analysis: word normalisation, hedge lexicon and matching,
// repeated phrases and vocabulary diversity.
#include "speech/lexicon.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "speech/metrics.h"

#ifndef ROSTRUM_SOURCE_DIR
#define ROSTRUM_SOURCE_DIR "."
#endif

namespace speech::lexicon {
namespace {

std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;)
        if (std::string n = normalize_word(w); !n.empty()) out.push_back(n);
    return out;
}

TEST(SpeechLexicon, NormalizesRecognizerTokens) {
    EXPECT_EQ(normalize_word("Well,"), "well");
    EXPECT_EQ(normalize_word("\"Quote\""), "quote");
    EXPECT_EQ(normalize_word("I'M"), "i'm");
    EXPECT_EQ(normalize_word("the(2)"), "the");
    EXPECT_EQ(normalize_word("<sil>"), "");
    EXPECT_EQ(normalize_word("</s>"), "");
    EXPECT_EQ(normalize_word("[noise]"), "");
    EXPECT_EQ(normalize_word("++breath++"), "");
    EXPECT_EQ(normalize_word("..."), "");
    EXPECT_EQ(normalize_word(""), "");
    EXPECT_EQ(normalize_word("café"), "café");
}

TEST(SpeechLexicon, FillerSpellings) {
    for (const char* w : {"um", "uh", "er", "ah", "hmm", "erm", "umm"})
        EXPECT_TRUE(is_filler_word(w));
    for (const char* w : {"like", "so", "a", "hum"}) EXPECT_FALSE(is_filler_word(w));
}

TEST(SpeechLexicon, ParsesAnEditableList) {
    const auto list = parse_phrase_list(
        "# comment\n\n  I  Think \nsort of # trailing comment\n"
        "i think\r\nMaybe\n#maybe not\n");
    EXPECT_EQ(list, (std::vector<std::string>{"i think", "sort of", "maybe"}));
    EXPECT_TRUE(parse_phrase_list("").empty());
    EXPECT_EQ(parse_hedges("kind of"), (std::vector<std::string>{"kind of"}));
}

TEST(SpeechLexicon, BuiltInHedgesMatchTheEditableFile) {
    std::ifstream in(ROSTRUM_SOURCE_DIR "/speech/hedges.txt");
    ASSERT_TRUE(in) << "speech/hedges.txt not found from " ROSTRUM_SOURCE_DIR;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(parse_hedges(text.str()), default_hedges());
    EXPECT_EQ(text.str(), default_hedge_text());
    EXPECT_GE(default_hedges().size(), 20u);
}

TEST(SpeechHedges, CountsMultiWordPhrasesCaseInsensitively) {
    const auto c = count_phrases(words_of("I think it is SORT OF ready and i THINK we can ship, "
                                          "sort of"),
                                 default_hedges());
    EXPECT_EQ(c.total, 4);
    EXPECT_EQ(c.by_phrase.at("i think"), 2);
    EXPECT_EQ(c.by_phrase.at("sort of"), 2);
}

TEST(SpeechHedges, LongestMatchWinsAndIsCountedOnce) {
    const auto c = count_phrases(words_of("it is a little bit late"), default_hedges());
    EXPECT_EQ(c.total, 1);
    EXPECT_EQ(c.by_phrase.count("a little bit"), 1u);
    EXPECT_EQ(c.by_phrase.count("a bit"), 0u);
}

TEST(SpeechHedges, NeedsTheWholePhraseInOrder) {
    EXPECT_EQ(count_phrases(words_of("think i sort the list of"), default_hedges()).total, 0);
    EXPECT_EQ(count_phrases(words_of("i"), default_hedges()).total, 0);
    EXPECT_EQ(count_phrases({}, default_hedges()).total, 0);
    EXPECT_EQ(count_phrases(words_of("i think"), {}).total, 0);
}

TEST(SpeechHedges, CustomLexicon) {
    const auto c = count_phrases(words_of("To Be Honest it was to be honest fine"),
                                 parse_phrase_list("To be honest\n"));
    EXPECT_EQ(c.total, 2);
    EXPECT_EQ(c.by_phrase.at("to be honest"), 2);
}

TEST(SpeechRepeats, FindsPhrasesSaidAtLeastTwice) {
    const auto r = repeated_phrases(words_of(
        "our machine learning model is fast and the machine learning model is small so the "
        "machine learning model wins"));
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].text, "machine learning model");
    EXPECT_EQ(r[0].count, 3);
    EXPECT_EQ(r[1].text, "machine learning model is");
    EXPECT_EQ(r[1].count, 2);
    EXPECT_EQ(r[2].text, "the machine learning model");
    EXPECT_EQ(r[2].count, 2);
    // "machine learning" (3 times) and "learning model is" (twice) are inside those.
}

TEST(SpeechRepeats, MostFrequentFirstAndContainedPhrasesDropped) {
    const auto r = repeated_phrases(words_of(
        "the quarterly report matters . the quarterly report is late . we read the quarterly "
        "report . budget review today and budget review tomorrow"));
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].text, "the quarterly report");
    EXPECT_EQ(r[0].count, 3);
    EXPECT_EQ(r[1].text, "budget review");
    EXPECT_EQ(r[1].count, 2);
}

TEST(SpeechRepeats, StopWordOnlyPhrasesAreIgnored) {
    EXPECT_TRUE(repeated_phrases(words_of("of the cat and of the dog in the end in the")).empty());
}

TEST(SpeechRepeats, OverlappingOccurrencesCountOnce) {
    // "really good" is repeated without overlap; "very very" only overlaps itself.
    const auto r = repeated_phrases(words_of("very very very really good really good"));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].text, "really good");
}

TEST(SpeechRepeats, LimitedToTen) {
    std::string text;
    for (int round = 0; round < 2; ++round)
        for (int i = 0; i < 30; ++i)
            text += "alpha" + std::to_string(i) + " beta" + std::to_string(i) + " . ";
    EXPECT_EQ(repeated_phrases(words_of(text)).size(), 10u);
    EXPECT_TRUE(repeated_phrases({}).empty());
}

TEST(SpeechVocabulary, ShortTextIsTypeTokenRatio) {
    EXPECT_DOUBLE_EQ(unique_ratio(words_of("the cat saw the dog")), 4.0 / 5);
    EXPECT_DOUBLE_EQ(unique_ratio(words_of("word")), 1.0);
    EXPECT_EQ(unique_ratio({}), 0);
}

TEST(SpeechVocabulary, LongTextIsAveragedOverFiftyWordWindows) {
    // Ten distinct words repeated: every 50-word window holds 10 distinct words.
    std::vector<std::string> words;
    for (int i = 0; i < 400; ++i) words.push_back("w" + std::to_string(i % 10));
    EXPECT_DOUBLE_EQ(unique_ratio(words), 10.0 / 50);
    // All distinct: 1 whatever the length.
    std::vector<std::string> distinct;
    for (int i = 0; i < 300; ++i) distinct.push_back("w" + std::to_string(i));
    EXPECT_DOUBLE_EQ(unique_ratio(distinct), 1.0);
}

}  // namespace
}  // namespace speech::lexicon
