// The interview simulator's feedback on one answer and the scorecard of an interview (API.md
// "Interviews"), by transparent rules instead of a language model: key points matched stemmed
// and synonym-aware over the answer, STAR cues, delivery from the existing analysis, wording
// rules that hold on unpunctuated recogniser output, and tips. Pure functions: no database, no
// audio, no state. The REST handler (typed answers), the worker (voice answers) and
// `rostrum live` (/ws/interviews/{id}) all call these, so every path gives the same feedback.
// docs/analysis.md ("Interview feedback") writes the same rules and formulas for users.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "speech/metrics.h"
#include "speech/transcript.h"

namespace speech::interview {

// What a good answer covers: a short description and the terms that show it ("measured",
// "metric", "kpi", "a/b test"); a term of several words is a phrase. Matching is on stems
// (Snowball English), so "measure" also finds "measuring" and "measured".
struct KeyPoint {
    std::string text;
    std::vector<std::string> terms;
};

// The question as the turn's snapshot holds it (migration 0010, interview_turns.question).
struct Question {
    std::string id;
    std::string text;
    std::string competency;  // communication, problem_solving, teamwork, leadership, technical...
    std::string difficulty;  // easy | medium | hard
    std::vector<KeyPoint> key_points;
    std::vector<std::string> follow_ups;
};

// An answer: typed text, or a voice answer's transcript with its delivery analysis.
struct Answer {
    std::string text;                        // typed text, or the transcript's text
    const Transcript* transcript = nullptr;  // voice: words with times; null when typed
    const Analysis* analysis = nullptr;      // voice: the session's analysis; null when typed
    double duration_s = 0;                   // voice: the audio's length; typed: 0
    bool typed() const { return transcript == nullptr; }
};

struct GrammarIssue {
    std::string text;     // the words concerned, as they appear in the answer
    std::string message;  // what is wrong and what to do, one sentence
};

// API.md's feedback object. Delivery fields that do not apply to a typed answer (wpm, pauses,
// confidence) are absent (nullopt), hedges and fillers are counted in the text.
struct Feedback {
    struct {
        int score = 0;                             // 0..100
        std::vector<std::string> covered, missed;  // KeyPoint::text of each
    } relevance;
    struct {
        int score = 0;  // 0..100
        bool situation = false, task = false, action = false, result = false;
    } structure;
    struct {
        std::optional<double> wpm;
        std::optional<double> fillers_per_min;
        int hedges = 0;
        std::optional<int> pauses_long;
        std::optional<double> confidence;
    } delivery;
    struct {
        std::vector<GrammarIssue> issues;
    } grammar;
    std::vector<std::string> tips;  // 2-4 concrete tips
};

// The scores of one answer (0..100), what a turn stores and the scorecard aggregates.
struct AnswerScores {
    int relevance = 0, structure = 0, delivery = 0, grammar = 0;
    int communication = 0, fluency = 0, confidence = 0;
    int overall = 0;
};

// Spelling of typed answers is checked by a Speller the caller owns (hunspell, Debian's
// en_US dictionary); null means "not checked" (voice answers: the recogniser only produces
// dictionary words). See speech/speller.h: make one per process and share it (loading the
// dictionary takes about 30 ms; it is thread-safe).
class Speller;

Feedback assess(const Question& q, const Answer& a, const Speller* speller = nullptr);
AnswerScores score_answer(const Question& q, const Answer& a, const Feedback& f);

// Whether the next turn is a follow-up of this one and its text: the question's own follow-ups
// first (hard interviews prefer the challenging ones: "what would you do differently", "how
// did you measure it"), else a template naming what was missing. Never when `is_follow_up`
// (at most one follow-up per question).
struct FollowUp {
    bool ask = false;
    std::string reason;  // "too_short" | "no_example" | "missed_key_points" | "hedging"
    std::string text;
};
FollowUp decide_follow_up(const Question& q, const Answer& a, const Feedback& f,
                          std::string_view interview_difficulty, bool is_follow_up);

// The scorecard from the answered turns (one AnswerScores each, follow-ups included) and the
// bank questions left unanswered (skipped: they count as 0 in the averages' formula that
// docs/analysis.md writes down).
struct Scorecard {
    int communication = 0, fluency = 0, confidence = 0, relevance = 0, structure = 0, overall = 0;
    std::vector<std::string> strengths, improvements;  // plain sentences
};
struct ScoredTurn {
    const Question* question = nullptr;
    const Feedback* feedback = nullptr;
    AnswerScores scores;
};
Scorecard score_interview(const std::vector<ScoredTurn>& answered, int skipped_questions);

// JSON in API.md's shapes (objects as text, for cJSON or jsonb). question_json has {id, text,
// competency, difficulty, key_points: [{text, terms}], follow_ups}.
std::string feedback_json(const Feedback& f);
std::string scores_json(const AnswerScores& s);
std::string question_json(const Question& q);
// Parses question_json's output (a turn's stored snapshot); nullopt when malformed.
std::optional<Question> parse_question(std::string_view json);

}  // namespace speech::interview
