// Interview feedback (speech/interview_feedback) on fixed answers: a table of poor, average and
// strong answers written for four questions, each with the key points it should cover and
// miss, its STAR flags and the follow-up it calls for; then the rules one at a time (stemming,
// synonyms, wording, spelling, voice delivery), the scores and scorecard formulas, and the
// question snapshot's JSON.
#include "speech/interview_feedback.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "speech/speller.h"

namespace speech::interview {
namespace {

Question conflict() {
    return {"q-conflict",
            "Tell me about a time you handled a conflict in your team.",
            "teamwork",
            "medium",
            {{"Listened to both sides", {"listen", "both sides", "each side", "perspective"}},
             {"Found a compromise or a shared goal", {"compromise", "shared goal", "agree"}},
             {"Followed up afterwards", {"follow up", "checked in", "afterwards"}}},
            {"What would you do differently next time?", "How did the team react?"}};
}

Question process() {
    return {"q-process",
            "Describe a project where you improved a process.",
            "problem_solving",
            "hard",
            {{"How the problem was measured", {"measure", "data", "baseline"}},
             {"The change that was made", {"automate", "redesign", "checklist"}},
             {"A quantified result", {"percent", "hours", "saved"}}},
            {}};
}

Question explain() {
    return {"q-explain",
            "How would you explain a technical concept to a non-technical stakeholder?",
            "communication",
            "easy",
            {{"Used an analogy", {"analogy", "like a", "compare"}},
             {"Checked understanding", {"check understanding", "ask questions", "feedback"}},
             {"Avoided jargon", {"jargon", "plain language", "simple words"}}},
            {"Can you give an example of an analogy you used?"}};
}

Question hashing() {
    return {"q-hash",
            "Explain how a hash table works.",
            "technical",
            "medium",
            {{"The hash function", {"hash function"}},
             {"Buckets in an array", {"bucket", "array"}},
             {"Collisions and how they are handled", {"collision", "chaining", "open addressing"}}},
            {"What happens when the table gets full?"}};
}

struct Case {
    const char* name;
    Question (*question)();
    const char* interview_difficulty;
    const char* text;
    std::vector<std::string> covered, missed;
    bool s, t, a, r;
    const char* follow_up_reason;  // "" when no follow-up
    const char* follow_up_text;    // "" when no follow-up
};

const std::vector<Case>& table() {
    static const std::vector<Case> kTable = {
        {"conflict_poor",
         conflict,
         "medium",
         "I think we kind of just talked about it and maybe it was fine.",
         {},
         {"Listened to both sides", "Found a compromise or a shared goal",
          "Followed up afterwards"},
         false,
         false,
         false,
         false,
         "too_short",
         "How did the team react?"},
        {"conflict_average",
         conflict,
         "medium",
         "In my last job two colleagues argued about who should own the weekly reporting work, "
         "and it was slowing the whole team down. I talked to each of them on my own and "
         "listened to what bothered them about it. Then we decided that they would split the "
         "work by region and swap every quarter. It worked out fine in the end.",
         {"Listened to both sides"},
         {"Found a compromise or a shared goal", "Followed up afterwards"},
         true,
         false,
         true,
         true,
         "missed_key_points",
         "How did the team react?"},
        {"conflict_strong",
         conflict,
         "medium",
         "Last year at my previous company two engineers on my team disagreed about the "
         "release plan. As the team lead my task was to get the release out on time without "
         "losing either of them. I met each of them separately and listened to both sides, "
         "then I brought them together and we agreed on a compromise: we shipped the core "
         "features first and moved the risky migration to the next sprint. Afterwards I "
         "checked in with both every week. As a result we delivered on time, the migration "
         "went out two weeks later with no incidents, and both engineers told me they felt "
         "heard.",
         {"Listened to both sides", "Found a compromise or a shared goal",
          "Followed up afterwards"},
         {},
         true,
         true,
         true,
         true,
         "",
         ""},
        {"conflict_strong_hard",
         conflict,
         "hard",
         "Last year at my previous company two engineers on my team disagreed about the "
         "release plan. I met each of them separately and listened to both sides. They "
         "agreed in the end that the migration could wait.",
         {"Listened to both sides", "Found a compromise or a shared goal"},
         {"Followed up afterwards"},
         true,
         false,
         true,
         true,
         "too_short",
         "What would you do differently next time?"},
        {"process_poor",
         process,
         "hard",
         "I improved a process at work. It was better after that.",
         {},
         {"How the problem was measured", "The change that was made", "A quantified result"},
         false,
         false,
         true,
         true,  // "improved" is an outcome word, but no figure: see the follow-up
         "too_short",
         "How did you measure the result?"},
        {"process_average",
         process,
         "hard",
         "In my last role our deployments were slow so I introduced a checklist and we "
         "automated some of the steps. It took a while to get everyone on board but people "
         "liked it and I think it was faster in the end, maybe a bit. I basically kept "
         "improving it over time as we went along and I think the team was happy with that "
         "and nobody complained about the new way of doing the releases after a few months.",
         {"The change that was made"},
         {"How the problem was measured", "A quantified result"},
         true,
         false,
         true,
         true,
         "missed_key_points",
         "You did not mention how the problem was measured. How did that come into it?"},
        {"process_strong",
         process,
         "hard",
         "At my previous job our monthly invoicing took the finance team four days, and my "
         "task was to cut that in half before the audit. First I measured where the time went "
         "and found that sixty percent of it was spent copying data between two spreadsheets. "
         "I wrote a small script to automate the export, redesigned the approval steps with "
         "the team, and ran the new process alongside the old one for a month. As a result "
         "invoicing now takes one and a half days, we saved about twenty hours a month, and "
         "the auditors had no findings. Looking back, I would involve the auditors earlier, "
         "because they had ideas about the approval steps that we only heard at the very end.",
         {"How the problem was measured", "The change that was made", "A quantified result"},
         {},
         true,
         true,
         true,
         true,
         "",
         ""},
        {"explain_poor",
         explain,
         "medium",
         "Use simple words.",
         {"Avoided jargon"},
         {"Used an analogy", "Checked understanding"},
         false,
         false,
         false,
         false,
         "too_short",
         "Can you give an example of an analogy you used?"},
        {"explain_strong",
         explain,
         "medium",
         "At my last job I had to explain to our sales director why the new search was slow. "
         "I avoided jargon and compared the index to the catalogue of a library: without it "
         "you walk every shelf. Then I asked questions to check she could explain it back. "
         "As a result she approved two weeks for the index work.",
         {"Used an analogy", "Checked understanding", "Avoided jargon"},
         {},
         true,
         true,
         true,
         true,
         "",
         ""},
        {"hash_poor",
         hashing,
         "medium",
         "It uses hashing to find things fast.",
         {},
         {"The hash function", "Buckets in an array", "Collisions and how they are handled"},
         false,
         false,
         false,
         false,  // "fast" is not an outcome, "faster" would be
         "too_short",
         "What happens when the table gets full?"},
        {"hash_strong",
         hashing,
         "medium",
         "A hash table stores key value pairs in an array of buckets. A hash function turns "
         "each key into an index into that array, so a lookup goes straight to one bucket "
         "instead of scanning everything. Two keys can land in the same bucket, which is a "
         "collision; you handle it with chaining, a small list per bucket, or with open "
         "addressing, probing the next free slot. When the table gets too full, say above "
         "seventy five percent, you resize it and rehash every key, which keeps lookups close "
         "to constant time on average.",
         {"The hash function", "Buckets in an array", "Collisions and how they are handled"},
         {},
         false,
         false,
         false,
         true,
         "",
         ""},
    };
    return kTable;
}

Answer typed(const std::string& text) {
    Answer a;
    a.text = text;
    return a;
}

TEST(InterviewFeedback, TableOfAnswers) {
    for (const Case& c : table()) {
        SCOPED_TRACE(c.name);
        const Question q = c.question();
        const Answer a = typed(c.text);
        const Feedback f = assess(q, a);
        EXPECT_EQ(f.relevance.covered, c.covered);
        EXPECT_EQ(f.relevance.missed, c.missed);
        EXPECT_EQ(f.structure.situation, c.s);
        EXPECT_EQ(f.structure.task, c.t);
        EXPECT_EQ(f.structure.action, c.a);
        EXPECT_EQ(f.structure.result, c.r);
        EXPECT_GE(f.tips.size(), 2u);
        EXPECT_LE(f.tips.size(), 4u);
        const FollowUp fu = decide_follow_up(q, a, f, c.interview_difficulty, false);
        EXPECT_EQ(fu.ask, *c.follow_up_reason != '\0');
        EXPECT_EQ(fu.reason, c.follow_up_reason);
        EXPECT_EQ(fu.text, c.follow_up_text);
        // Never a second follow-up.
        EXPECT_FALSE(decide_follow_up(q, a, f, c.interview_difficulty, true).ask);
    }
}

TEST(InterviewFeedback, StrongOutscoresPoor) {
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"conflict_poor", "conflict_strong"},    {"process_poor", "process_strong"},
        {"explain_poor", "explain_strong"},      {"hash_poor", "hash_strong"},
        {"conflict_average", "conflict_strong"}, {"process_average", "process_strong"}};
    auto scores_of = [](const std::string& name) {
        for (const Case& c : table())
            if (name == c.name) {
                const Question q = c.question();
                const Answer a = typed(c.text);
                return score_answer(q, a, assess(q, a));
            }
        ADD_FAILURE() << name;
        return AnswerScores{};
    };
    for (const auto& [weak, strong] : pairs) {
        SCOPED_TRACE(weak + " < " + strong);
        const AnswerScores w = scores_of(weak), s = scores_of(strong);
        EXPECT_GT(s.relevance, w.relevance);
        if (weak != "hash_poor") {  // STAR hardly applies
            EXPECT_GT(s.structure, w.structure);
        }
        EXPECT_GT(s.overall, w.overall);
        EXPECT_GT(s.communication, w.communication);
    }
    const AnswerScores strong = scores_of("process_strong");
    EXPECT_EQ(strong.relevance, 100);
    EXPECT_EQ(strong.structure, 100);
}

TEST(InterviewFeedback, TechnicalAnswersGetNoStarTips) {
    const Answer a = typed(table().back().text);  // hash_strong
    const Feedback f = assess(hashing(), a);
    for (const std::string& t : f.tips) {
        EXPECT_EQ(t.find("example"), std::string::npos) << t;
        EXPECT_EQ(t.find("situation and your task"), std::string::npos) << t;
        EXPECT_EQ(t.find("End with the result"), std::string::npos) << t;
    }
    EXPECT_EQ(f.tips.size(), 2u);
}

TEST(InterviewFeedback, StemmingAndSynonyms) {
    Question q = conflict();
    q.key_points = {{"Measured it", {"measure"}},
                    {"Measuring", {"measured"}},
                    {"Client focus", {"customer"}},
                    {"Phrase", {"root cause"}}};
    const Feedback f =
        assess(q, typed("We measured it with our clients; the root causes were clear."));
    EXPECT_EQ(f.relevance.covered,
              (std::vector<std::string>{"Measured it", "Measuring", "Client focus", "Phrase"}));
    EXPECT_EQ(f.relevance.score, 100);
    // A phrase's words must be adjacent and in order.
    const Feedback g = assess(q, typed("The cause was at the root."));
    EXPECT_EQ(g.relevance.missed.back(), "Phrase");
    EXPECT_EQ(g.relevance.score, 0);
}

TEST(InterviewFeedback, WordingRulesOnTypedText) {
    const Feedback f = assess(
        conflict(), typed("I basically kind of talked to the the team and we kind of agreed that "
                          "the"));
    std::vector<std::string> texts;
    for (const GrammarIssue& g : f.grammar.issues) texts.push_back(g.text);
    EXPECT_NE(std::find(texts.begin(), texts.end(), "the the"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "kind of"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "basically"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "of agreed that the\u2026"), texts.end());
    EXPECT_EQ(f.delivery.hedges, 2);
    EXPECT_FALSE(f.delivery.wpm);  // typed: no pace, pauses or confidence
    EXPECT_FALSE(f.delivery.pauses_long);
    EXPECT_FALSE(f.delivery.confidence);

    std::string run_on;
    for (int i = 0; i < 50; ++i) run_on += "and then we talked ";
    const Feedback r = assess(conflict(), typed(run_on));
    bool found = false;
    for (const GrammarIssue& g : r.grammar.issues)
        found = found || g.message.find("A stretch of 200 words") == 0;
    EXPECT_TRUE(found);
}

TEST(InterviewFeedback, SpellingOfTypedAnswers) {
    const Speller sp;
    ASSERT_TRUE(sp.ok()) << "hunspell-en-us is not installed (scripts/deps.sh)";
    EXPECT_EQ(sp.correct("receive"), true);
    EXPECT_EQ(sp.correct("recieve"), false);
    const Feedback f = assess(conflict(),
                              typed("I recieve the reports from the KPI team and "
                                    "definately read them, Anna said."),
                              &sp);
    std::vector<std::string> texts;
    for (const GrammarIssue& g : f.grammar.issues) texts.push_back(g.text);
    EXPECT_NE(std::find(texts.begin(), texts.end(), "recieve"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "definately"), texts.end());
    EXPECT_EQ(std::find(texts.begin(), texts.end(), "KPI"), texts.end());
    EXPECT_EQ(std::find(texts.begin(), texts.end(), "Anna"), texts.end());
    for (const GrammarIssue& g : f.grammar.issues)
        if (g.text == "recieve") {
            EXPECT_NE(g.message.find("receive"), std::string::npos);
        }

    const Speller missing("/nonexistent/en_US.aff", "/nonexistent/en_US.dic");
    EXPECT_FALSE(missing.ok());
    EXPECT_EQ(missing.correct("recieve"), std::nullopt);
    EXPECT_TRUE(missing.suggest("recieve").empty());
    EXPECT_TRUE(assess(conflict(), typed("I recieve it."), &missing).grammar.issues.empty());
}

// "word word |1.5| word": 0.3 s per word, 0.05 s between words, |g| a pause of g seconds.
Transcript spoken(const std::string& spec) {
    Transcript t;
    std::istringstream in(spec);
    std::string w;
    double at = 0;
    while (in >> w) {
        if (w.front() == '|') {
            at += std::stod(w.substr(1));
            continue;
        }
        t.words.push_back({w, at, at + 0.3, 0.9, w == "um" || w == "uh"});
        at += 0.35;
        if (!t.text.empty()) t.text += ' ';
        t.text += w;
    }
    return t;
}

TEST(InterviewFeedback, VoiceAnswer) {
    const Transcript t = spoken(
        "so i met with the |1.6| the two of them and um listened to both sides and we "
        "agreed on a compromise");
    Analysis an;
    an.wpm = 140;
    an.fillers.per_min = 2.5;
    an.pauses.long_count = 1;
    an.confidence = 0.82;
    an.hedges.count = 0;
    an.scores = {80, 70, 75, 90, 78};
    Answer a;
    a.text = t.text;
    a.transcript = &t;
    a.analysis = &an;
    a.duration_s = 8;
    const Feedback f = assess(conflict(), a);
    ASSERT_TRUE(f.delivery.wpm);
    EXPECT_DOUBLE_EQ(*f.delivery.wpm, 140);
    EXPECT_EQ(*f.delivery.pauses_long, 1);
    EXPECT_DOUBLE_EQ(*f.delivery.confidence, 0.82);
    EXPECT_DOUBLE_EQ(*f.delivery.fillers_per_min, 2.5);
    bool unfinished = false, repeated = false;
    for (const GrammarIssue& g : f.grammar.issues) {
        unfinished = unfinished ||
                     g.message.find("stops after \u201cthe\u201d for 1.7 s") != std::string::npos;
        repeated = repeated || g.text == "the the";
    }
    EXPECT_TRUE(unfinished);
    EXPECT_TRUE(repeated);
    EXPECT_EQ(f.relevance.covered.size(), 2u);
    const AnswerScores s = score_answer(conflict(), a, f);
    EXPECT_EQ(s.delivery, 78);
    EXPECT_EQ(s.fluency, 70);
    EXPECT_EQ(s.confidence, 90);
}

TEST(InterviewFeedback, EmptyAnswerScoresZero) {
    const Answer a = typed("   ");
    const Feedback f = assess(process(), a);
    EXPECT_EQ(f.relevance.score, 0);
    EXPECT_EQ(f.structure.score, 0);
    const AnswerScores s = score_answer(process(), a, f);
    EXPECT_EQ(s.overall, 0);
    EXPECT_EQ(s.communication, 0);
    const FollowUp fu = decide_follow_up(process(), a, f, "medium", false);
    EXPECT_TRUE(fu.ask);
    EXPECT_EQ(fu.reason, "too_short");
    EXPECT_EQ(fu.text, "Could you tell me more? Walk me through what happened, step by step.");
}

TEST(InterviewFeedback, HedgingFollowUp) {
    Question q = conflict();
    q.follow_ups.clear();
    const std::string text =
        "At my last job I think two colleagues kind of disagreed about the release, maybe "
        "about the plan. I listened to both sides and I guess we agreed on a compromise and I "
        "checked in afterwards every week, and as a result I think the release went out on "
        "time, probably, and the team was happy with it in the end.";
    const Answer a = typed(text);
    const Feedback f = assess(q, a);
    EXPECT_GE(f.delivery.hedges, 3);
    const FollowUp fu = decide_follow_up(q, a, f, "medium", false);
    EXPECT_EQ(fu.reason, "hedging");
    EXPECT_EQ(fu.text, "What exactly did you do, and what was the result?");
}

TEST(InterviewFeedback, Scorecard) {
    const Question q = conflict();
    Feedback f1, f2;
    f1.structure.result = false;
    f1.relevance.missed = {"Followed up afterwards"};
    f2.structure.result = true;
    f2.structure.action = true;
    AnswerScores s1, s2;
    s1 = {60, 40, 70, 90, 50, 80, 70, 55};
    s2 = {90, 100, 80, 80, 90, 90, 90, 92};
    const std::vector<ScoredTurn> turns = {{&q, &f1, s1}, {&q, &f2, s2}};
    const Scorecard c = score_interview(turns, 1);
    // Each category: the sum over answered turns / (answered + skipped).
    EXPECT_EQ(c.relevance, 50);      // (60 + 90) / 3
    EXPECT_EQ(c.structure, 47);      // (40 + 100) / 3 = 46.7
    EXPECT_EQ(c.communication, 47);  // (50 + 90) / 3
    EXPECT_EQ(c.fluency, 57);        // (80 + 90) / 3 = 56.7
    EXPECT_EQ(c.confidence, 53);     // (70 + 90) / 3 = 53.3
    EXPECT_EQ(c.overall, 49);        // (55 + 92) / 3
    EXPECT_FALSE(c.strengths.empty());
    bool skipped = false, missed = false;
    for (const std::string& s : c.improvements) {
        skipped = skipped || s.find("skipped 1 question") != std::string::npos;
        missed = missed || s.find("Followed up afterwards") != std::string::npos;
    }
    EXPECT_TRUE(skipped);
    EXPECT_TRUE(missed);
    const Scorecard none = score_interview({}, 0);
    EXPECT_EQ(none.overall, 0);
    const Scorecard all_skipped = score_interview({}, 3);
    EXPECT_EQ(all_skipped.overall, 0);
    const Scorecard unskipped = score_interview(turns, 0);
    EXPECT_EQ(unskipped.relevance, 75);
}

TEST(InterviewFeedback, Json) {
    const Question q = conflict();
    const Answer a = typed(table()[2].text);
    const Feedback f = assess(q, a);
    const std::string fj = feedback_json(f);
    EXPECT_NE(
        fj.find("\"star\":{\"situation\":true,\"task\":true,\"action\":true,\"result\":true}"),
        std::string::npos)
        << fj;
    EXPECT_NE(fj.find("\"wpm\":null"), std::string::npos) << fj;
    EXPECT_NE(fj.find("\"covered\":[\"Listened to both sides\""), std::string::npos) << fj;
    const std::string sj = scores_json(score_answer(q, a, f));
    EXPECT_EQ(sj.find("{\"relevance\":100,\"structure\":100,"), 0u) << sj;
}

TEST(InterviewFeedback, QuestionRoundTrip) {
    for (Question (*make)() : {conflict, process, explain, hashing}) {
        const Question q = make();
        const std::optional<Question> back = parse_question(question_json(q));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->id, q.id);
        EXPECT_EQ(back->text, q.text);
        EXPECT_EQ(back->competency, q.competency);
        EXPECT_EQ(back->difficulty, q.difficulty);
        EXPECT_EQ(back->follow_ups, q.follow_ups);
        ASSERT_EQ(back->key_points.size(), q.key_points.size());
        for (size_t i = 0; i < q.key_points.size(); ++i) {
            EXPECT_EQ(back->key_points[i].text, q.key_points[i].text);
            EXPECT_EQ(back->key_points[i].terms, q.key_points[i].terms);
        }
        EXPECT_EQ(question_json(*back), question_json(q));
    }
    // The stored snapshot carries industry and role too, and may leave optional parts out.
    const auto snap = parse_question(
        R"({"id":"a","text":"Why us?","industry":"tech","role":null,"key_points":[],"follow_ups":null})");
    ASSERT_TRUE(snap);
    EXPECT_EQ(snap->text, "Why us?");
    EXPECT_TRUE(snap->key_points.empty());
}

TEST(InterviewFeedback, MalformedQuestions) {
    for (const char* bad : {
             "",
             "{",
             "[]",
             "null",
             "\"text\"",
             R"({"text":"no id"})",
             R"({"id":"a"})",
             R"({"id":1,"text":"number id"})",
             R"({"id":"a","text":"t","key_points":{}})",
             R"({"id":"a","text":"t","key_points":["a string"]})",
             R"({"id":"a","text":"t","key_points":[{"terms":["x"]}]})",
             R"({"id":"a","text":"t","key_points":[{"text":"k","terms":[1]}]})",
             R"({"id":"a","text":"t","key_points":[{"text":"k","terms":"x"}]})",
             R"({"id":"a","text":"t","follow_ups":"one"})",
             R"({"id":"a","text":"t","follow_ups":[null]})",
             R"({"id":"a","text":"t","competency":7})",
             R"({"id":"a","text":"t","id":"b"})",
             R"({"id":"a","text":"t"} trailing)",
             "{\"id\":\"a\",\"text\":\"\\u0000\"}",
             "{\"id\":\"a\",\"text\":\"\xff\"}",
         }) {
        EXPECT_FALSE(parse_question(bad)) << bad;
    }
}

}  // namespace
}  // namespace speech::interview
