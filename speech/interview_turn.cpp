// One answered turn (see interview_turn.h).
#include "speech/interview_turn.h"

#include "core/json.h"

namespace speech::interview {
namespace {

// Parses without the request reader's exceptions: stored JSON that does not parse is a
// nullopt, not a 400.
core::JsonPtr parse(std::string_view json) {
    return core::JsonPtr(cJSON_ParseWithLength(json.data(), json.size()));
}

const cJSON* member(const cJSON* o, const char* key) {
    return o ? cJSON_GetObjectItemCaseSensitive(o, key) : nullptr;
}

int int_of(const cJSON* o, const char* key) {
    const cJSON* v = member(o, key);
    return cJSON_IsNumber(v) ? static_cast<int>(v->valuedouble) : 0;
}

bool bool_of(const cJSON* o, const char* key) {
    return cJSON_IsTrue(member(o, key));
}

std::optional<double> number_of(const cJSON* o, const char* key) {
    const cJSON* v = member(o, key);
    if (!cJSON_IsNumber(v)) return std::nullopt;
    return v->valuedouble;
}

std::vector<std::string> strings_of(const cJSON* o, const char* key) {
    std::vector<std::string> out;
    const cJSON* a = member(o, key);
    if (!cJSON_IsArray(a)) return out;
    for (const cJSON* c = a->child; c; c = c->next)
        if (cJSON_IsString(c)) out.emplace_back(c->valuestring);
    return out;
}

}  // namespace

Question follow_up_question(const Question& parent, const Feedback& f, const std::string& text) {
    Question q;
    q.text = text;
    q.competency = parent.competency;
    q.difficulty = parent.difficulty;
    for (const KeyPoint& k : parent.key_points)
        for (const std::string& missed : f.relevance.missed)
            if (k.text == missed) q.key_points.push_back(k);
    if (q.key_points.empty()) q.key_points = parent.key_points;
    return q;
}

AnalysedAnswer analyse_answer(const Question& q, const Answer& a, std::string_view difficulty,
                              bool is_follow_up, const Speller* speller) {
    AnalysedAnswer out;
    out.feedback = assess(q, a, speller);
    out.scores = score_answer(q, a, out.feedback);
    out.follow_up = decide_follow_up(q, a, out.feedback, difficulty, is_follow_up);
    out.feedback_json = feedback_json(out.feedback);
    out.scores_json = scores_json(out.scores);
    if (out.follow_up.ask && !is_follow_up)
        out.follow_up_json = question_json(follow_up_question(q, out.feedback, out.follow_up.text));
    return out;
}

std::optional<Feedback> parse_feedback(std::string_view json) {
    core::JsonPtr root = parse(json);
    if (!cJSON_IsObject(root.get())) return std::nullopt;
    Feedback f;
    const cJSON* rel = member(root.get(), "relevance");
    f.relevance.score = int_of(rel, "score");
    f.relevance.covered = strings_of(rel, "covered");
    f.relevance.missed = strings_of(rel, "missed");
    const cJSON* st = member(root.get(), "structure");
    f.structure.score = int_of(st, "score");
    const cJSON* star = member(st, "star");
    f.structure.situation = bool_of(star, "situation");
    f.structure.task = bool_of(star, "task");
    f.structure.action = bool_of(star, "action");
    f.structure.result = bool_of(star, "result");
    const cJSON* d = member(root.get(), "delivery");
    f.delivery.wpm = number_of(d, "wpm");
    f.delivery.fillers_per_min = number_of(d, "fillers_per_min");
    f.delivery.hedges = int_of(d, "hedges");
    if (auto p = number_of(d, "pauses_long")) f.delivery.pauses_long = static_cast<int>(*p);
    f.delivery.confidence = number_of(d, "confidence");
    const cJSON* issues = member(member(root.get(), "grammar"), "issues");
    if (cJSON_IsArray(issues))
        for (const cJSON* c = issues->child; c; c = c->next) {
            const cJSON* t = member(c, "text");
            const cJSON* m = member(c, "message");
            if (cJSON_IsString(t) && cJSON_IsString(m))
                f.grammar.issues.push_back({t->valuestring, m->valuestring});
        }
    f.tips = strings_of(root.get(), "tips");
    return f;
}

std::optional<AnswerScores> parse_scores(std::string_view json) {
    core::JsonPtr root = parse(json);
    if (!cJSON_IsObject(root.get())) return std::nullopt;
    const cJSON* o = root.get();
    AnswerScores s;
    s.relevance = int_of(o, "relevance");
    s.structure = int_of(o, "structure");
    s.delivery = int_of(o, "delivery");
    s.grammar = int_of(o, "grammar");
    s.communication = int_of(o, "communication");
    s.fluency = int_of(o, "fluency");
    s.confidence = int_of(o, "confidence");
    s.overall = int_of(o, "overall");
    return s;
}

}  // namespace speech::interview
