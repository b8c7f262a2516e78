// Interview questions made from templates and keywords (POST /questions/generate): each
// template is a question a careful interviewer would ask about one skill or topic, written for
// a competency and a difficulty, with the key points a good answer covers and follow-ups; the
// slots take a keyword (a role's keywords or a job description's keyphrases, speech/
// keywords.h), the role's name and the industry's. The key points name the same keyword, and
// their terms are the keyword's words, so the feedback engine's stemmed matching looks for it
// in the answer. Pure functions: the handler supplies the keywords and the bank's texts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "speech/interview_feedback.h"

namespace speech::questions {

using interview::KeyPoint;

// A keyword to fill a slot with: how it reads in a sentence ("data pipelines") and the terms
// an answer that covers it uses (the phrase itself and its content words).
struct Keyword {
    std::string text;
    std::vector<std::string> terms;
};

// The keyword's terms: the phrase in lower case, then each of its words that is not a stop
// word, when it has several ("data pipelines" → "data pipelines", "data", "pipelines").
Keyword keyword_from(std::string_view phrase);

struct Request {
    std::string role;        // the role's name ("Backend Engineer")
    std::string industry;    // the industry's name ("Software")
    std::string difficulty;  // easy | medium | hard
    size_t count = 5;
    std::vector<Keyword> keywords;  // best first; at least one (the handler falls back to the role)
    // normalise()d texts the result must not repeat (the bank's).
    const std::unordered_set<std::string>* exclude = nullptr;
};

struct Generated {
    std::string text;
    std::string competency;
    std::string difficulty;
    std::vector<KeyPoint> key_points;  // 2-4; the first names the question's keyword
    std::vector<std::string> follow_ups;
};

// Up to `count` questions of the difficulty, none repeating an excluded text or another of
// the result. Competencies take turns (technical, problem solving, communication, teamwork,
// leadership, customer focus, adaptability, motivation, ethics) and keywords take turns with
// them, best keyword first, so a short request covers the best keywords and several
// competencies. Deterministic: the same request gives the same questions. Fewer than `count`
// only when every template × keyword is excluded (there are at least 20 templates per
// difficulty, so one keyword is enough for 20).
std::vector<Generated> generate(const Request& r);

// The form texts are compared in: lower-case ASCII letters and digits, every other run of
// bytes one space, trimmed ("Tell me, about  X?" → "tell me about x").
std::string normalise(std::string_view text);

// The competencies the templates cover (each one of questions_competency_check's values).
std::vector<std::string_view> competencies();
// Templates of a difficulty (for the tests' count checks).
size_t template_count(std::string_view difficulty);

}  // namespace speech::questions
