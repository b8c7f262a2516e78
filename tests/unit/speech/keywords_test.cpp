// speech/keywords: the tokeniser, the background corpus and the TF-IDF keyphrases.
#include "speech/keywords.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

using namespace speech::keywords;

namespace {

std::vector<std::string> lowers(std::string_view text) {
    std::vector<std::string> out;
    for (const Token& t : tokenize(text)) out.push_back(t.lower);
    return out;
}

std::vector<std::string> texts(const std::vector<Keyphrase>& ks) {
    std::vector<std::string> out;
    for (const Keyphrase& k : ks) out.push_back(k.text);
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

constexpr std::string_view kBackendAd = R"(Senior Backend Engineer

We are looking for an experienced backend engineer to join our platform team. You will design,
build and operate the data pipelines and APIs behind our payments products.

Responsibilities:
- Design and maintain data pipelines in Kafka and PostgreSQL.
- Own the reliability of our data pipelines: monitoring, alerting, on-call.
- Build REST APIs in Go and review code from other engineers.
- Improve query performance in PostgreSQL and plan schema migrations.

Requirements: 5+ years of experience with Go or Java, strong knowledge of PostgreSQL,
experience with Kafka and Kubernetes, and good communication skills.)";

}  // namespace

TEST(KeywordsTokenize, WordsJoinersAndBoundaries) {
    EXPECT_EQ(lowers("Node.js, C++ and C# for cross-functional teams' work."),
              (std::vector<std::string>{"node.js", "c++", "and", "c#", "for", "cross-functional",
                                        "teams", "work"}));
    std::vector<Token> t = tokenize("data pipelines. Kafka\n- PostgreSQL");
    ASSERT_EQ(t.size(), 4u);
    EXPECT_FALSE(t[1].boundary);
    EXPECT_TRUE(t[2].boundary);  // after the full stop
    EXPECT_TRUE(t[3].boundary);  // a new bullet line
    EXPECT_EQ(t[3].surface, "PostgreSQL");
    EXPECT_EQ(lowers("the team's goals"), (std::vector<std::string>{"the", "team", "goals"}));
    EXPECT_EQ(lowers("the team\xE2\x80\x99s goals"),
              (std::vector<std::string>{"the", "team", "goals"}));
}

TEST(KeywordsTokenize, Utf8LettersAndInvalidBytes) {
    EXPECT_EQ(lowers("Caf\xC3\xA9 Z\xC3\xBCrich"),
              (std::vector<std::string>{"caf\xC3\xA9", "z\xC3\xBCrich"}));
    // A lone continuation byte, an overlong '/', a surrogate: separators, never part of a word.
    EXPECT_EQ(lowers("ab\x80"
                     "cd\xC0\xAF"
                     "ef\xED\xA0\x80gh"),
              (std::vector<std::string>{"ab", "cd", "ef", "gh"}));
    // A truncated sequence at the end.
    EXPECT_EQ(lowers("kafka\xE2\x80"), (std::vector<std::string>{"kafka"}));
    // Too long to be a word (a URL, a hash).
    EXPECT_TRUE(lowers(std::string(41, 'a')).empty());
}

TEST(KeywordsStem, SnowballEnglish) {
    EXPECT_EQ(stem("pipelines"), stem("pipeline"));
    EXPECT_EQ(stem("managing"), stem("managed"));
    EXPECT_TRUE(is_stop_word("the"));
    EXPECT_TRUE(is_stop_word("experience"));
    EXPECT_FALSE(is_stop_word("kafka"));
}

TEST(KeywordsBackground, TheShippedCorpusIsTheFileOperatorsRead) {
    std::ifstream in(ROSTRUM_SOURCE_DIR "/speech/data/background_corpus.txt");
    ASSERT_TRUE(in);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), background_corpus_text());
    const Background& bg = default_background();
    EXPECT_GE(bg.documents(), 40u);
    // Job-ad language is general, a technology is not.
    EXPECT_TRUE(bg.general(stem("customers")));
    EXPECT_TRUE(bg.general(stem("team")));
    EXPECT_FALSE(bg.general(stem("kafka")));
    EXPECT_GT(bg.idf(stem("kafka")), bg.idf(stem("customers")));
    EXPECT_DOUBLE_EQ(bg.idf("zzz-never"), std::log(bg.documents() + 1.0) + 1);
}

TEST(KeywordsExtract, ADescriptionsOwnTermsRankFirst) {
    std::vector<Keyphrase> ks = extract(kBackendAd, 8);
    std::vector<std::string> t = texts(ks);
    ASSERT_FALSE(t.empty());
    EXPECT_TRUE(has(t, "PostgreSQL")) << ::testing::PrintToString(t);
    EXPECT_TRUE(has(t, "data pipelines")) << ::testing::PrintToString(t);
    EXPECT_TRUE(has(t, "Kafka")) << ::testing::PrintToString(t);
    // Generic job-ad words never come out on their own.
    for (const char* generic : {"experience", "team", "communication", "years", "build"})
        EXPECT_FALSE(has(t, generic)) << generic;
    // Best first, no phrase inside another.
    for (size_t i = 1; i < ks.size(); ++i) EXPECT_GE(ks[i - 1].score, ks[i].score);
    for (const Keyphrase& a : ks) {
        for (const Keyphrase& b : ks) {
            if (&a == &b) continue;
            EXPECT_FALSE(std::all_of(a.stems.begin(), a.stems.end(),
                                     [&](const std::string& s) {
                                         return std::find(b.stems.begin(), b.stems.end(), s) !=
                                                b.stems.end();
                                     }))
                << a.text << " inside " << b.text;
        }
    }
}

TEST(KeywordsExtract, APhraseReplacesItsWordWhenItHoldsHalfItsUses) {
    // "pipelines" 3 times, "data pipelines" twice of them: the phrase wins.
    std::vector<std::string> t =
        texts(extract("We run data pipelines. Our data pipelines are fast. Pipelines matter.", 3));
    EXPECT_TRUE(has(t, "data pipelines")) << ::testing::PrintToString(t);
    EXPECT_FALSE(has(t, "pipelines"));
    // Once in five: the word stays.
    t = texts(extract("Pipelines. Pipelines. Pipelines. Pipelines. Data pipelines.", 3));
    EXPECT_TRUE(has(t, "pipelines")) << ::testing::PrintToString(t);
}

TEST(KeywordsExtract, EmptyStopWordsAndLimits) {
    EXPECT_TRUE(extract("", 5).empty());
    EXPECT_TRUE(extract("   \n\t ", 5).empty());
    EXPECT_TRUE(extract("the and of with you will be 2024 10 5", 5).empty());
    EXPECT_TRUE(extract(kBackendAd, 0).empty());
    EXPECT_LE(extract(kBackendAd, 2).size(), 2u);
    // Deterministic.
    EXPECT_EQ(texts(extract(kBackendAd, 8)), texts(extract(kBackendAd, 8)));
    // Capitalised only at a sentence start: shown in lower case.
    EXPECT_EQ(texts(extract("Budgeting matters. Budgeting wins.", 1)),
              (std::vector<std::string>{"budgeting"}));
}
