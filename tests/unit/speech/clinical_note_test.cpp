// The clinical note draft on fixed consultation transcripts: words with timings as the
// recogniser gives them (lower case, no punctuation), sentences separated by pauses.
#include "speech/clinical_note.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace speech {
namespace {

// Words of `sentences`, 0.3 s each with 0.1 s between words and `gap_s` between sentences.
// A word "um" is marked a filler, as the recogniser marks it.
std::vector<Word> spoken(const std::vector<std::string>& sentences, double gap_s = 1.0) {
    std::vector<Word> out;
    double t = 0;
    for (const std::string& s : sentences) {
        size_t pos = 0;
        while (pos < s.size()) {
            size_t end = s.find(' ', pos);
            if (end == std::string::npos) end = s.size();
            std::string w = s.substr(pos, end - pos);
            if (!w.empty()) {
                out.push_back({w, t, t + 0.3, 0.9, w == "um" || w == "uh"});
                t += 0.4;
            }
            pos = end + 1;
        }
        t += gap_s - 0.1;
    }
    return out;
}

bool has(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// A sore-throat consultation: every sentence has the section it should land in.
const std::vector<std::string> kSoreThroat = {
    "good morning how are you",                                      // none
    "i have had a sore throat and a fever for three days",           // subjective
    "it hurts when i swallow and i feel tired",                      // subjective
    "i have a history of asthma",                                    // subjective
    "your temperature is thirty eight point five degrees",           // objective
    "on examination the throat is red and the tonsils are swollen",  // objective
    "the lungs are clear",                                           // objective
    "i think this is most likely a bacterial throat infection",      // assessment
    "it is consistent with strep throat",                            // assessment
    "we will start you on antibiotics twice a day for ten days",     // plan
    "come back if the fever is not better in three days",            // plan
};

TEST(ClinicalNote, SentencesAreCutAtPausesOfSevenTenths) {
    // 0.69 s apart: one sentence; 0.7 s: two.
    std::vector<Word> w = {{"the", 0, 0.3, 1, false},
                           {"pain", 0.99, 1.3, 1, false},
                           {"started", 2.0, 2.3, 1, false},
                           {"monday", 2.4, 2.7, 1, false}};
    auto s = rebuild_sentences(w);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].text, "the pain");
    EXPECT_EQ(s[1].text, "started monday");
    EXPECT_DOUBLE_EQ(s[1].start_s, 2.0);
    EXPECT_DOUBLE_EQ(s[1].end_s, 2.7);
}

TEST(ClinicalNote, FillersAreDroppedAndIIsCapitalised) {
    auto s = rebuild_sentences(spoken({"um i think i'm uh fine"}));
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].text, "I think I'm fine");
}

TEST(ClinicalNote, ASentenceWithoutPausesIsCutAtItsWidestInnerGap) {
    std::vector<Word> w;
    double t = 0;
    for (int i = 0; i < 60; ++i) {
        w.push_back({"word", t, t + 0.2, 1, false});
        t += (i == 29) ? 0.6 : 0.3;  // the widest gap after the 30th word, still under 0.7 s
    }
    auto s = rebuild_sentences(w);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_DOUBLE_EQ(s[1].start_s, w[30].start_s);
}

TEST(ClinicalNote, EmptyAndAllFillerInputsGiveAnEmptyNote) {
    EXPECT_TRUE(rebuild_sentences({}).empty());
    ClinicalNote n = draft_clinical_note(spoken({"um uh", "uh"}));
    EXPECT_TRUE(n.sentences.empty());
    EXPECT_EQ(n.summary, "");
    EXPECT_EQ(n.subjective + n.objective + n.assessment + n.plan, "");
}

TEST(ClinicalNote, EachSentenceOfTheSoreThroatVisitLandsInItsSection) {
    const Section want[] = {Section::none,       Section::subjective, Section::subjective,
                            Section::subjective, Section::objective,  Section::objective,
                            Section::objective,  Section::assessment, Section::assessment,
                            Section::plan,       Section::plan};
    ASSERT_EQ(std::size(want), kSoreThroat.size());
    for (size_t i = 0; i < kSoreThroat.size(); ++i) {
        Placement p = classify_sentence(kSoreThroat[i]);
        std::string cues;
        for (const auto& c : p.cues) cues += c + "; ";
        EXPECT_EQ(section_name(p.section), std::string(section_name(want[i])))
            << "\"" << kSoreThroat[i] << "\" cues: " << cues;
    }
}

TEST(ClinicalNote, TheDraftFillsSectionsAndSummaryFromTheVisit) {
    ClinicalNote n = draft_clinical_note(spoken(kSoreThroat));
    ASSERT_EQ(n.sentences.size(), kSoreThroat.size());
    EXPECT_TRUE(has(n.subjective, "I have had a sore throat and a fever for three days."));
    EXPECT_TRUE(has(n.subjective, "I have a history of asthma."));
    EXPECT_TRUE(has(n.objective, "Your temperature is thirty eight point five degrees."));
    EXPECT_TRUE(has(n.objective, "The lungs are clear."));
    EXPECT_TRUE(has(n.assessment, "I think this is most likely a bacterial throat infection."));
    EXPECT_TRUE(has(n.plan, "We will start you on antibiotics twice a day for ten days."));
    EXPECT_FALSE(has(n.subjective + n.objective + n.assessment + n.plan, "Good morning"));
    // A sentence goes to one section only.
    EXPECT_FALSE(has(n.subjective, "antibiotics"));
    // The summary: whole sentences of the visit, in the order said, not the greeting.
    EXPECT_FALSE(n.summary.empty());
    EXPECT_FALSE(has(n.summary, "Good morning"));
    EXPECT_EQ(n.summary.back(), '.');
    // The throat is what the visit is about: TextRank ranks a throat sentence among the best.
    EXPECT_TRUE(has(n.summary, "throat"));
}

// A blood pressure review: measurements spelled as words, durations, a referral.
TEST(ClinicalNote, NumbersWithUnitsAreFindingsAndDurationsAreHistory) {
    Placement bp = classify_sentence("your blood pressure today is one hundred forty over ninety");
    EXPECT_EQ(bp.section, Section::objective);
    Placement weight = classify_sentence("you are eighty two kilograms");
    EXPECT_EQ(weight.section, Section::objective);
    Placement since = classify_sentence("the headaches have been there for two weeks");
    EXPECT_EQ(since.section, Section::subjective);
    Placement refer = classify_sentence("i will refer you to a cardiologist");
    EXPECT_EQ(refer.section, Section::plan);
    Placement dx = classify_sentence("the diagnosis is hypertension");
    EXPECT_EQ(dx.section, Section::assessment);
    // The cue that decided is kept, so the draft explains itself.
    bool named = false;
    for (const auto& c : bp.cues) named = named || c == "objective: blood pressure";
    EXPECT_TRUE(named);
}

TEST(ClinicalNote, AssessmentCuesOutweighTheSymptomWordsTheyMention) {
    EXPECT_EQ(classify_sentence("i think the cough is probably viral").section,
              Section::assessment);
    EXPECT_EQ(classify_sentence("the cough started on monday").section, Section::subjective);
    EXPECT_EQ(classify_sentence("we will follow up in two weeks").section, Section::plan);
    EXPECT_EQ(classify_sentence("see you in two weeks").section, Section::plan);
    EXPECT_EQ(classify_sentence("nice weather").section, Section::none);
}

TEST(ClinicalNote, StemsDropStopWordsAndShareRoots) {
    auto a = content_stems("the coughing is worse at night");
    auto b = content_stems("she coughed all night");
    EXPECT_EQ(a, (std::vector<std::string>{"cough", "wors", "night"}));
    EXPECT_EQ(b, (std::vector<std::string>{"cough", "night"}));
}

TEST(ClinicalNote, TextRankPrefersTheSentenceOthersShareWordsWith) {
    std::vector<std::vector<std::string>> stems = {
        {"chest", "pain", "breath"},  // linked to both others
        {"chest", "pain", "exercis"},
        {"pain", "breath", "stair"},
        {"weather", "nice"},  // linked to nothing
        {},
    };
    auto s = textrank(stems);
    ASSERT_EQ(s.size(), stems.size());
    EXPECT_GT(s[0], s[1]);
    EXPECT_GT(s[0], s[2]);
    EXPECT_GT(s[1], s[3]);
    EXPECT_DOUBLE_EQ(s[4], 0);
}

}  // namespace
}  // namespace speech
