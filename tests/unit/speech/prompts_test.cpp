// The memo splitter (speech/prompts) on real transcripts and on memo-like word lists.
// Real: the recogniser's words (times, filler flags) for two recordings of
// ../shared/data/speech/ (`rostrum transcribe FILE --json`, captured here so the test needs no
// model), and the reference texts of the shared set with times laid out as speech would have
// them. Hand-written: the rules one at a time (pauses, cue words, fillers, false starts,
// leftovers, capitals, the title).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "speech/prompts.h"

namespace speech {
namespace {

using Prompts = std::vector<std::string>;

// "word start end filler; ..." -> a transcript.
Transcript words(const std::string& spec) {
    Transcript t;
    std::istringstream in(spec);
    std::string item;
    while (std::getline(in, item, ';')) {
        std::istringstream w(item);
        Word word;
        int filler = 0;
        if (!(w >> word.word >> word.start_s >> word.end_s >> filler)) continue;
        word.filler = filler != 0;
        word.confidence = 0.9;
        t.words.push_back(word);
    }
    return t;
}

// Speech as a memo would have it: each space-separated word takes 0.3 s with no gap, "|"
// is a pause of `pause_s`, "um"/"uh" come flagged as fillers as the recogniser flags them.
Transcript spoken(const std::string& text, double pause_s = 0.8) {
    Transcript t;
    std::istringstream in(text);
    std::string w;
    double at = 0.5;
    while (in >> w) {
        if (w == "|") {
            at += pause_s;
            continue;
        }
        t.words.push_back({w, at, at + 0.3, 0.9, w == "um" || w == "uh"});
        at += 0.3;
    }
    return t;
}

// rostrum transcribe read/harvard_sentences.wav --json (a man reading six Harvard sentences,
// 18 s; the recogniser's errors kept: "we're" for "beer", "case all the colts" for "a salt
// pickle tastes", and its "um" inside the pause before "tacos").
const char* const kHarvard =
    "the 1.28 1.47 0; stale 1.47 1.88 0; smell 1.88 2.34 0; of 2.34 2.43 0; old 2.43 2.77 0;"
    "we're 2.77 3.02 0; lingers 3.02 3.78 0; it 4.39 4.56 0; takes 4.56 4.90 0;"
    "heat 4.90 5.23 0; to 5.23 5.32 0; bring 5.32 5.62 0; out 5.62 5.80 0; the 5.80 5.94 0;"
    "odor 5.94 6.33 0; a 7.03 7.10 0; cold 7.10 7.56 0; day 7.56 7.70 0; it 7.70 7.88 0;"
    "restores 8.00 8.48 0; health 8.48 8.81 0; and 8.81 8.97 0; zest 8.97 9.47 0;"
    "case 9.93 10.27 0; all 10.27 10.48 0; the 10.58 10.69 0; colts 10.69 11.06 0;"
    "he's 11.06 11.32 0; fine 11.32 11.61 0; with 11.61 11.78 0; me 11.78 11.95 0;"
    "um 11.95 12.14 1; tacos 12.62 13.02 0; all 13.02 13.13 0; past 13.13 13.46 0;"
    "or 13.46 13.68 0; are 13.68 13.78 0; my 13.78 13.94 0; favorite 13.94 14.51 0;"
    "is 15.09 15.35 0; as 15.35 15.52 0; full 15.52 15.72 0; food 15.72 16.28 0;"
    "is 16.28 16.43 0; the 16.43 16.53 0; hot 16.53 16.85 0; cross 16.85 17.19 0;"
    "bond 17.19 17.60 0;";

// rostrum transcribe fillers/ami_es2004a_fee013.wav --json (a meeting headset, 25 s: fillers,
// a restart "when they're ... when you", a repetition "it's it's").
const char* const kAmi =
    "um 0.57 1.04 1; when 2.45 2.77 0; they're 2.77 3.12 0; when 4.10 4.28 0;"
    "you 4.28 4.37 0; put 4.37 4.54 0; the 4.54 4.61 0; main 4.61 5.04 0;"
    "sayings 5.04 5.63 0; on 5.63 5.77 0; the 5.77 5.83 0; front 5.83 6.23 0;"
    "of 6.23 6.33 0; it 6.33 6.69 0; and 6.89 7.31 0; section 7.48 7.92 0; of 7.92 8.08 0;"
    "consent 8.08 8.45 0; percent 8.45 8.83 0; saying 8.83 9.16 0; to 9.74 9.91 0;"
    "that 9.91 10.48 0; other 10.67 10.95 0; functions 10.95 11.64 0; thing 11.64 11.77 0;"
    "he 11.77 11.85 0; can 11.85 12.02 0; do 12.02 12.19 0; send 12.19 12.85 0;"
    "our 12.85 13.30 0; options 13.30 13.95 0; can 13.95 14.15 0; of 14.18 14.38 0;"
    "the 15.07 15.29 0; courting 15.29 15.78 0; things 15.78 16.06 0; like 16.06 16.26 0;"
    "that 16.26 16.46 0; inside 16.46 16.98 0; that's 16.98 17.47 0; because 17.84 18.04 0;"
    "it 18.04 18.12 0; doesn't 18.12 18.36 0; make 18.36 18.59 0; when 18.59 18.72 0;"
    "you 18.72 18.81 0; pick 18.81 19.04 0; it 19.04 19.12 0; up 19.12 19.28 0;"
    "does 19.31 19.48 0; make 19.48 19.72 0; you 19.72 19.78 0; the 19.78 19.95 0;"
    "context 19.95 20.68 0; they 20.68 20.79 0; can 20.79 21.08 0; it's 21.08 21.31 0;"
    "it's 21.50 21.72 0; all 22.16 22.32 0; the 22.32 22.58 0; exploit 22.58 23.10 0;"
    "you 23.10 23.23 0; doing 23.23 23.70 0; man 24.41 24.84 0;";

TEST(Prompts, HarvardSentencesCutAtTheirPauses) {
    // The six sentences are read with 0.46-0.70 s between them, their words at most 0.12 s
    // apart: one prompt per sentence, each starting where the reference sentence starts.
    const Prompts p = split_prompts(words(kHarvard));
    ASSERT_EQ(p.size(), 6u);
    EXPECT_EQ(p[0], "The stale smell of old we're lingers");
    EXPECT_EQ(p[1], "It takes heat to bring out the odor");
    EXPECT_EQ(p[2], "A cold day it restores health and zest");
    EXPECT_EQ(p[3], "Case all the colts he's fine with me");  // the "um" after "me" is gone
    EXPECT_EQ(p[4], "Tacos all past or are my favorite");
    EXPECT_EQ(p[5], "Is as full food is the hot cross bond");
}

TEST(Prompts, HarvardSpansFollowTheWords) {
    const std::vector<Prompt> p = split_prompt_spans(words(kHarvard));
    ASSERT_EQ(p.size(), 6u);
    EXPECT_DOUBLE_EQ(p[0].start_s, 1.28);
    EXPECT_DOUBLE_EQ(p[0].end_s, 3.78);
    EXPECT_DOUBLE_EQ(p[4].start_s, 12.62);  // after the filler, not at it
    for (size_t i = 1; i < p.size(); ++i) EXPECT_GT(p[i].start_s, p[i - 1].end_s);
}

TEST(Prompts, AmiMeetingLosesFillersAndRepeats) {
    const Prompts p = split_prompts(words(kAmi));
    ASSERT_FALSE(p.empty());
    for (const std::string& s : p) {
        EXPECT_EQ(s.find("um"), std::string::npos) << s;
        EXPECT_EQ(s.find("it's it's"), std::string::npos) << s;
        EXPECT_EQ(s.find("  "), std::string::npos) << s;
        EXPECT_TRUE(s[0] >= 'A' && s[0] <= 'Z') << s;
    }
    // The last piece held "it's it's all": one "it's" is left.
    EXPECT_NE(p.back().find("they can it's all the"), std::string::npos) << p.back();
}

TEST(Prompts, ReferenceTextsOfTheSharedSet) {
    // read/harvard_sentences.wav's reference, laid out with a pause between its sentences.
    const Prompts p = split_prompts(spoken(
        "the stale smell of old beer lingers | it takes heat to bring out the odor | a cold dip "
        "restores health and zest | a salt pickle tastes fine with ham | tacos al pastor are my "
        "favorite | a zestful food is the hot cross bun"));
    EXPECT_EQ(p,
              (Prompts{"The stale smell of old beer lingers", "It takes heat to bring out the odor",
                       "A cold dip restores health and zest", "A salt pickle tastes fine with ham",
                       "Tacos al pastor are my favorite", "A zestful food is the hot cross bun"}));
    // fillers/mfa_uhum.wav's reference: "montreal forced uh um uh hm hm um forced aligner", the
    // fillers one long filled pause; the speaker restarts on "forced".
    EXPECT_EQ(split_prompts(spoken("montreal forced | uh um uh hm hm um | forced aligner", 0.4)),
              (Prompts{"Montreal forced aligner"}));
    // fillers/mfa_acoustic_corpus.wav's reference (no pauses known: one unit), "words words
    // words words" said once, "yknow" kept (not a filler), "um" and "uh" gone.
    EXPECT_EQ(
        split_prompts(spoken("we're just saying some words and here's some more words words "
                             "words words um and that should be all")),
        (Prompts{
            "We're just saying some words and here's some more words and that should be all"}));
    // read/ps_goforward.wav: a one-line command stays one prompt.
    EXPECT_EQ(split_prompts(spoken("go forward ten meters")), (Prompts{"Go forward ten meters"}));
}

TEST(Prompts, CueWordsCutWithoutPauses) {
    EXPECT_EQ(split_prompts(spoken("first call the supplier about the invoice then book a room for "
                                   "next thursday also remind sam to send the slides")),
              (Prompts{"Call the supplier about the invoice", "Book a room for next thursday",
                       "Remind sam to send the slides"}));
    EXPECT_EQ(split_prompts(spoken("email the team and then book the flight after that pack the "
                                   "bags next water the plants finally lock the door")),
              (Prompts{"Email the team", "Book the flight", "Pack the bags", "Water the plants",
                       "Lock the door"}));
    EXPECT_EQ(split_prompts(spoken("first of all clean the desk second file the receipts third "
                                   "lastly call mum")),
              (Prompts{"Clean the desk", "File the receipts", "Call mum"}));
}

TEST(Prompts, CueWordsInsideAClauseDoNotCut) {
    EXPECT_EQ(split_prompts(spoken("we also need the first draft by then")),
              (Prompts{"We also need the first draft by then"}));
    EXPECT_EQ(split_prompts(spoken("if the build fails then call me")),
              (Prompts{"If the build fails then call me"}));
    EXPECT_EQ(split_prompts(spoken("book the room for next week and wait a second")),
              (Prompts{"Book the room for next week and wait a second"}));
    EXPECT_EQ(split_prompts(spoken("first thing tomorrow call the bank")),
              (Prompts{"First thing tomorrow call the bank"}));
    // Said last before a pause, "then" ends its sentence: "see you then".
    EXPECT_EQ(split_prompts(spoken("tell sam i will see him then | write the report")),
              (Prompts{"Tell sam I will see him then", "Write the report"}));
}

TEST(Prompts, PausesCutAtTheThreshold) {
    const PromptRules rules;
    EXPECT_EQ(
        split_prompts(spoken("call the bank | order more paper", rules.pause_s), rules).size(), 2u);
    EXPECT_EQ(split_prompts(spoken("call the bank | order more paper", rules.pause_s - 0.01), rules)
                  .size(),
              1u);
    PromptRules slow;
    slow.pause_s = 1.5;
    EXPECT_EQ(split_prompts(spoken("call the bank | order more paper", 1.0), slow),
              (Prompts{"Call the bank order more paper"}));
    // A filler's time is silence: "bank um | order" with short silences either side cuts.
    EXPECT_EQ(split_prompts(words("call 0 0.3 0; the 0.3 0.6 0; bank 0.6 0.9 0; um 1.0 1.4 1; "
                                  "order 1.5 1.8 0; more 1.8 2.1 0; paper 2.1 2.4 0")),
              (Prompts{"Call the bank", "Order more paper"}));
}

TEST(Prompts, FillersAndFalseStartsGo) {
    EXPECT_EQ(split_prompts(spoken("um so i i need to uh call the bank")),
              (Prompts{"I need to call the bank"}));
    EXPECT_EQ(split_prompts(spoken("we should we should order more paper")),
              (Prompts{"We should order more paper"}));
    EXPECT_EQ(split_prompts(spoken("send the the the invoice to to accounts")),
              (Prompts{"Send the invoice to accounts"}));
    // Fillers by spelling too, when the recogniser did not flag them ("erm", "hmm").
    EXPECT_EQ(split_prompts(words("erm 0 0.2 0; fix 0.2 0.5 0; hmm 0.5 0.7 0; the 0.7 0.9 0; "
                                  "printer 0.9 1.3 0")),
              (Prompts{"Fix the printer"}));
    // An unfilled pause is a boundary even when the next sentence begins with the last word.
    EXPECT_EQ(split_prompts(spoken("call sam | sam has the keys")),
              (Prompts{"Call sam", "Sam has the keys"}));
}

TEST(Prompts, LeftoversJoinOrGo) {
    // A word after a hesitation joins the sentence it belongs to.
    EXPECT_EQ(split_prompts(spoken("call the supplier | tomorrow | then book a room")),
              (Prompts{"Call the supplier tomorrow", "Book a room"}));
    // ... or, at the very start, the one after it.
    EXPECT_EQ(split_prompts(spoken("tomorrow | call the supplier")),
              (Prompts{"Tomorrow call the supplier"}));
    // Discourse words alone are dropped; a closing thanks too.
    EXPECT_EQ(split_prompts(spoken("okay | call the bank | yeah | order paper thanks | thank you")),
              (Prompts{"Call the bank", "Order paper"}));
    // A short piece a cue word opened is meant: kept.
    EXPECT_EQ(split_prompts(spoken("review the code then ship")),
              (Prompts{"Review the code", "Ship"}));
    // A dangling "and then" before the pause belongs to the next prompt: dropped.
    EXPECT_EQ(split_prompts(spoken("call the bank and then | order paper")),
              (Prompts{"Call the bank", "Order paper"}));
    // A one-word memo is still a prompt.
    EXPECT_EQ(split_prompts(spoken("groceries")), (Prompts{"Groceries"}));
}

TEST(Prompts, NothingToSay) {
    EXPECT_TRUE(split_prompts(Transcript{}).empty());
    EXPECT_TRUE(split_prompts(spoken("um | uh um")).empty());
    EXPECT_TRUE(split_prompts(spoken("and then | okay thanks")).empty());
    // Recogniser markup is not a word.
    EXPECT_TRUE(split_prompts(words("<sil> 0 1 0; [noise] 1 2 0")).empty());
}

TEST(Prompts, CapitalisedAndTrimmed) {
    EXPECT_EQ(split_prompts(words("i'll 0 0.2 0; ask 0.2 0.4 0; Sam, 0.4 0.6 0; if 0.6 0.7 0; "
                                  "i 0.7 0.8 0; may 0.8 1.0 0; leave. 1.0 1.3 0")),
              (Prompts{"I'll ask Sam if I may leave"}));
    // A word holding spaces or control bytes (an imported transcript) is several words.
    Transcript t;
    t.words.push_back({"call  the\tbank ", 0, 0.6, 0.9, false});
    t.words.push_back({"\n", 0.6, 0.7, 0.9, false});
    EXPECT_EQ(split_prompts(t), (Prompts{"Call the bank"}));
    // Words out of order in time (a recogniser glitch) do not make negative pauses.
    EXPECT_EQ(split_prompts(words("call 1.0 1.3 0; sam 0.5 0.8 0")), (Prompts{"Call sam"}));
}

TEST(MemoTitle, FirstPromptCutAtAWordBoundary) {
    EXPECT_EQ(memo_title({}), "");
    EXPECT_EQ(memo_title({"Call the bank", "Order paper"}), "Call the bank");
    const std::string eighty(80, 'a');
    EXPECT_EQ(memo_title({eighty}), eighty);                    // exactly the limit: kept
    EXPECT_EQ(memo_title({eighty + "b"}), eighty);              // one word too long: cut inside
    const std::string words79 = std::string(75, 'x') + " abc";  // 79 chars
    EXPECT_EQ(memo_title({words79 + " defgh"}), words79);       // cut before the word that crosses
    EXPECT_EQ(memo_title({words79 + " d"}), words79);           // 81 characters: cut
    EXPECT_EQ(memo_title({words79 + "d"}), words79 + "d");      // 80: kept
}

TEST(MemoTitle, CountsCharactersNotBytes) {
    std::string s;
    for (int i = 0; i < 40; ++i) s += "\xc3\xa9";  // 40 x "é": 80 bytes, 40 characters
    // 85 characters (170 bytes): the cut falls after the first 40, at the space.
    EXPECT_EQ(memo_title({s + " " + s + " end"}), s);
    // One 100-character word: cut at 80 characters, never inside one.
    std::string word;
    for (int i = 0; i < 100; ++i) word += "\xc3\xa9";
    EXPECT_EQ(memo_title({word}), word.substr(0, 160));
}

TEST(FitPrompts, LongPromptsGoOnAndTheCountIsBounded) {
    EXPECT_EQ(fit_prompts({"Call the bank", "Order paper"}, 1000, 100),
              (Prompts{"Call the bank", "Order paper"}));
    // Cut at the word boundary, the rest capitalised in the next prompt.
    EXPECT_EQ(fit_prompts({"Call the bank now"}, 9, 100), (Prompts{"Call the", "Bank now"}));
    EXPECT_EQ(fit_prompts({"Abcdefghij"}, 4, 100), (Prompts{"Abcd", "Efgh", "Ij"}));
    EXPECT_EQ(fit_prompts({"One two", "Three", "Four"}, 3, 3), (Prompts{"One", "Two", "Thr"}));
    // The store's bounds hold for any memo: 3 minutes without a pause is one long prompt.
    std::string talk;
    for (int i = 0; i < 120; ++i)
        talk += (i ? " " : "") + std::string("write down the bank invoices");
    const Prompts p = fit_prompts(split_prompts(spoken(talk)), 1000, 100);
    ASSERT_EQ(p.size(), 4u);  // 3479 characters in pieces of at most 1000
    for (const std::string& s : p) {
        EXPECT_LE(s.size(), 1000u);
        EXPECT_TRUE(s.front() >= 'A' && s.front() <= 'Z') << s;
        EXPECT_NE(s.back(), ' ');
    }
}

}  // namespace
}  // namespace speech
