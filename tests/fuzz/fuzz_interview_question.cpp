// libFuzzer target for speech/interview_feedback: a question snapshot and an answer from the
// bytes. Up to the first NUL byte is the question's JSON (parse_question; a fixed question
// when it does not parse), the rest is the answer, assessed both as typed text (with the
// hunspell speller) and as a voice transcript whose word times come from the bytes (some out
// of order, as a recogniser glitch could give). Invariants: no crash; a parsed question
// survives question_json and back unchanged; covered + missed are the key points; every score
// is within 0..100; 2-4 tips; the feedback and scores render as strict JSON; never a
// follow-up of a follow-up.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "speech/interview_feedback.h"
#include "speech/speller.h"

namespace {

using namespace speech::interview;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_interview_question invariant broken: %s\n", what);
    std::abort();
}

Question fallback() {
    return {"q",
            "Tell me about a time you improved a process.",
            "problem_solving",
            "medium",
            {{"Measured it", {"measure", "baseline"}}, {"A result", {"saved", "per cent"}}},
            {"How did you measure it?"}};
}

speech::Transcript spoken(std::string_view text) {
    speech::Transcript t;
    double at = 0;
    size_t b = 0;
    while (b < text.size() && t.words.size() < 2000) {
        size_t e = text.find(' ', b);
        if (e == std::string_view::npos) e = text.size();
        if (e > b) {
            const auto c = static_cast<unsigned char>(text[b]);
            at += (c % 32) / 10.0;                          // 0 to 3.1 s of silence before it
            const double start = (c & 0x80) ? at - 1 : at;  // sometimes out of order
            t.words.push_back({std::string(text.substr(b, e - b)), start, start + 0.3,
                               (c % 100) / 100.0, (c & 0x40) != 0});
            if (!t.text.empty()) t.text += ' ';
            t.text += t.words.back().word;
            at = start + 0.3;
        }
        b = e + 1;
    }
    return t;
}

void check(const Question& q, const Answer& a, const Speller* sp, std::string_view difficulty) {
    const Feedback f = assess(q, a, sp);
    require(f.relevance.covered.size() + f.relevance.missed.size() == q.key_points.size(),
            "covered + missed are not the key points");
    require(f.relevance.score >= 0 && f.relevance.score <= 100, "relevance out of 0..100");
    require(f.structure.score >= 0 && f.structure.score <= 100, "structure out of 0..100");
    require(f.tips.size() >= 2 && f.tips.size() <= 4, "not 2-4 tips");
    const AnswerScores s = score_answer(q, a, f);
    for (int v : {s.relevance, s.structure, s.delivery, s.grammar, s.communication, s.fluency,
                  s.confidence, s.overall})
        require(v >= 0 && v <= 100, "a score out of 0..100");
    try {
        core::parse_json_strict(feedback_json(f));
        core::parse_json_strict(scores_json(s));
    } catch (...) {
        require(false, "feedback or scores are not strict JSON");
    }
    require(!decide_follow_up(q, a, f, difficulty, true).ask, "a follow-up of a follow-up");
    const FollowUp fu = decide_follow_up(q, a, f, difficulty, false);
    require(fu.ask == !fu.text.empty() && fu.ask == !fu.reason.empty(),
            "a follow-up without text or reason");
    const Scorecard c = score_interview({{&q, &f, s}}, 1);
    require(c.overall >= 0 && c.overall <= 100, "a scorecard out of 0..100");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Speller speller;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const size_t nul = all.find('\0');
    const std::string_view json = all.substr(0, nul);
    const std::string_view answer = nul == std::string_view::npos ? "" : all.substr(nul + 1);

    const std::optional<Question> parsed = parse_question(json);
    if (parsed) {
        const std::string once = question_json(*parsed);
        const std::optional<Question> again = parse_question(once);
        require(again.has_value(), "question_json's output does not parse");
        require(question_json(*again) == once, "the question changed in a round trip");
    }
    const Question q = parsed ? *parsed : fallback();
    // Bound the work per input: key points times answer words is the matching's cost.
    if (q.key_points.size() > 64 || answer.size() > 8192) return 0;
    const std::string_view difficulty = size % 3 == 0 ? "hard" : size % 3 == 1 ? "easy" : "medium";

    Answer typed;
    typed.text = std::string(answer);
    // hunspell's suggestion takes tens of milliseconds: with it on every input the fuzzer
    // would mostly time hunspell. One input in four goes through it.
    check(q, typed, size % 4 == 0 ? &speller : nullptr, difficulty);

    const speech::Transcript t = spoken(answer);
    Answer voice;
    voice.text = t.text;
    voice.transcript = &t;
    voice.duration_s = t.words.empty() ? 0 : t.words.back().end_s;
    check(q, voice, nullptr, difficulty);
    return 0;
}
