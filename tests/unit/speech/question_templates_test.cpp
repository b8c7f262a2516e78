// speech/question_templates: questions from templates and keywords.
#include "speech/question_templates.h"

#include <gtest/gtest.h>

#include <set>

using namespace speech::questions;

namespace {

Request request(std::vector<std::string> words, const std::string& difficulty, size_t count) {
    Request r;
    r.role = "Backend Engineer";
    r.industry = "Software";
    r.difficulty = difficulty;
    r.count = count;
    for (const std::string& w : words) r.keywords.push_back(keyword_from(w));
    return r;
}

}  // namespace

TEST(QuestionTemplates, KeywordTerms) {
    Keyword k = keyword_from("  Data   Pipelines ");
    EXPECT_EQ(k.text, "Data Pipelines");
    EXPECT_EQ(k.terms, (std::vector<std::string>{"data pipelines", "data", "pipelines"}));
    EXPECT_EQ(keyword_from("Kafka").terms, (std::vector<std::string>{"kafka"}));
    EXPECT_EQ(keyword_from("management of risk").terms,
              (std::vector<std::string>{"management of risk", "management", "risk"}));
}

TEST(QuestionTemplates, Normalise) {
    EXPECT_EQ(normalise("  Tell me, about  X? "), "tell me about x");
    EXPECT_EQ(normalise("C++ -- and\tGo!"), "c and go");
    EXPECT_EQ(normalise(""), "");
}

TEST(QuestionTemplates, OneKeywordIsEnoughForTwentyAtEveryDifficulty) {
    for (const char* d : {"easy", "medium", "hard"}) {
        SCOPED_TRACE(d);
        EXPECT_EQ(template_count(d), 27u);
        std::vector<Generated> qs = generate(request({"Kafka"}, d, 20));
        ASSERT_EQ(qs.size(), 20u);
        std::set<std::string> seen;
        std::set<std::string> comps;
        for (const Generated& g : qs) {
            EXPECT_TRUE(seen.insert(normalise(g.text)).second) << g.text;
            comps.insert(g.competency);
            EXPECT_EQ(g.difficulty, d);
            EXPECT_NE(g.text.find("Kafka"), std::string::npos) << g.text;
            EXPECT_EQ(g.text.find('{'), std::string::npos) << g.text;
            ASSERT_GE(g.key_points.size(), 2u);
            EXPECT_LE(g.key_points.size(), 4u);
            EXPECT_NE(g.key_points[0].text.find("Kafka"), std::string::npos);
            EXPECT_EQ(g.key_points[0].terms, (std::vector<std::string>{"kafka"}));
            for (const auto& kp : g.key_points) EXPECT_FALSE(kp.terms.empty()) << kp.text;
            EXPECT_EQ(g.follow_ups.size(), 2u);
            for (const auto& f : g.follow_ups) EXPECT_EQ(f.find('{'), std::string::npos) << f;
        }
        EXPECT_EQ(comps.size(), competencies().size());
    }
}

TEST(QuestionTemplates, KeywordsTakeTurnsBestFirst) {
    std::vector<Generated> qs =
        generate(request({"data pipelines", "PostgreSQL", "Kafka", "Kubernetes"}, "medium", 4));
    ASSERT_EQ(qs.size(), 4u);
    EXPECT_NE(qs[0].text.find("data pipelines"), std::string::npos) << qs[0].text;
    EXPECT_NE(qs[1].text.find("PostgreSQL"), std::string::npos) << qs[1].text;
    EXPECT_NE(qs[2].text.find("Kafka"), std::string::npos) << qs[2].text;
    EXPECT_NE(qs[3].text.find("Kubernetes"), std::string::npos) << qs[3].text;
    EXPECT_NE(qs[0].competency, qs[1].competency);
    // The key point's terms are the keyword's words.
    EXPECT_EQ(qs[0].key_points[0].terms,
              (std::vector<std::string>{"data pipelines", "data", "pipelines"}));
    // Medium and hard ask for a measured outcome.
    EXPECT_EQ(qs[0].key_points.back().text, "States the outcome and how it was measured");
}

TEST(QuestionTemplates, HardFollowUpsChallenge) {
    std::vector<Generated> qs = generate(request({"Kafka"}, "hard", 9));
    bool differently = false, measured = false;
    for (const Generated& g : qs)
        for (const std::string& f : g.follow_ups) {
            differently |= f.find("differently") != std::string::npos;
            measured |= f.find("measure") != std::string::npos;
        }
    EXPECT_TRUE(differently);
    EXPECT_TRUE(measured);
}

TEST(QuestionTemplates, TheRoleReadsInASentence) {
    bool named = false;
    for (const Generated& g : generate(request({"Kafka"}, "easy", 27))) {
        EXPECT_EQ(g.text.find("Backend Engineer"), std::string::npos) << g.text;
        named |= g.text.find("a backend engineer") != std::string::npos;
    }
    EXPECT_TRUE(named);
    Request r = request({"audits"}, "easy", 27);
    r.role = "Account Manager";
    bool an = false;
    for (const Generated& g : generate(r))
        an |= g.text.find("an account manager") != std::string::npos;
    EXPECT_TRUE(an);
    r.role = "HR Partner";
    an = false;
    for (const Generated& g : generate(r)) an |= g.text.find("an HR partner") != std::string::npos;
    EXPECT_TRUE(an);
}

TEST(QuestionTemplates, TheBankIsNeverRepeated) {
    std::vector<Generated> all = generate(request({"Kafka"}, "easy", 27));
    ASSERT_EQ(all.size(), 27u);
    std::unordered_set<std::string> bank = {normalise(all[0].text), normalise(all[5].text)};
    Request r = request({"Kafka"}, "easy", 27);
    r.exclude = &bank;
    std::vector<Generated> qs = generate(r);
    EXPECT_EQ(qs.size(), 25u);  // every other combination
    for (const Generated& g : qs) EXPECT_EQ(bank.count(normalise(g.text)), 0u) << g.text;
}

TEST(QuestionTemplates, DuplicateKeywordsGiveNoDuplicateQuestions) {
    std::vector<Generated> qs = generate(request({"Kafka", "kafka"}, "medium", 20));
    std::set<std::string> seen;
    for (const Generated& g : qs) EXPECT_TRUE(seen.insert(normalise(g.text)).second) << g.text;
}

TEST(QuestionTemplates, NothingWithoutKeywordsOrWithAnUnknownDifficulty) {
    EXPECT_TRUE(generate(request({}, "easy", 5)).empty());
    EXPECT_TRUE(generate(request({"Kafka"}, "extreme", 5)).empty());
    EXPECT_EQ(template_count("extreme"), 0u);
}
