// One answered turn of an interview, the same on every path (the REST handler's typed
// answers, the worker's voice answers, later `rostrum live`): the feedback, the scores and the
// follow-up decision of speech/interview_feedback.h, with their JSON and the follow-up's
// snapshot; and the stored JSON read back for the scorecard. Pure: no database.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "speech/interview_feedback.h"

namespace speech::interview {

struct AnalysedAnswer {
    Feedback feedback;
    AnswerScores scores;
    FollowUp follow_up;
    std::string feedback_json, scores_json;
    // The follow-up turn's snapshot (question_json; its id is the turn's own, set by the
    // database), empty when no follow-up is asked.
    std::string follow_up_json;
};

// `is_follow_up`: the answered turn is itself a follow-up (no second one is asked).
AnalysedAnswer analyse_answer(const Question& q, const Answer& a, std::string_view difficulty,
                              bool is_follow_up, const Speller* speller = nullptr);

// The follow-up's question: its text, the parent's competency and difficulty, and the key
// points the answer missed (all of the parent's when it missed none), so that the follow-up's
// answer is judged on what the first one left out.
Question follow_up_question(const Question& parent, const Feedback& f, const std::string& text);

// A turn's stored feedback_json / scores_json read back (the scorecard sums them); nullopt
// when malformed. Unknown keys are ignored, missing numbers read as 0.
std::optional<Feedback> parse_feedback(std::string_view json);
std::optional<AnswerScores> parse_scores(std::string_view json);

}  // namespace speech::interview
