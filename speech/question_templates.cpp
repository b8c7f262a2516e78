// Interview questions from templates and keywords (see question_templates.h). The templates
// are data: per competency, three questions per difficulty, one key point about the keyword
// the question names, one about how a good answer is built, and follow-ups that dig where a
// weak answer stops (hard interviews ask what the candidate would do differently and how they
// measured it).
#include "speech/question_templates.h"

#include <array>

#include "speech/keywords.h"

namespace speech::questions {
namespace {

constexpr const char* kDifficulties[] = {"easy", "medium", "hard"};

struct FixedPoint {
    const char* text;
    std::array<const char*, 8> terms;  // nullptr-terminated when shorter
};

// What a competency's questions share: the key point about the keyword ({kw}), the key point
// about the answer's build, and two follow-ups per difficulty.
struct Competency {
    const char* name;
    const char* keyword_point;
    FixedPoint build_point;
    std::array<std::array<const char*, 2>, 3> follow_ups;  // easy, medium, hard
    std::array<std::array<const char*, 3>, 3> questions;   // easy, medium, hard
};

// Medium and hard answers should end in a result a listener can check.
constexpr FixedPoint kResultPoint{
    "States the outcome and how it was measured",
    {"result", "outcome", "measured", "improved", "reduced", "increased", "percent", "saved"}};

// The second keyword of a template that names two ({kw2}).
constexpr const char* kSecondKeywordPoint = "Links {kw2} to {kw} with a concrete example";

// clang-format off
constexpr Competency kCompetencies[] = {
    {"technical",
     "Shows hands-on knowledge of {kw}: what was done, with which tools and methods",
     {"Explains the reasoning behind the approach, not only the steps",
      {"because", "reason", "chose", "decided", "trade-off", "instead", "compared", nullptr}},
     {{{"Which tools or methods did you use for {kw}, and why those?",
        "What would you check first if your work on {kw} stopped behaving as expected?"},
       {"What alternatives to your approach to {kw} did you consider?",
        "How did you check that your work on {kw} was correct?"},
       {"What would you do differently with {kw} if you started again?",
        "How did you measure whether the change to {kw} worked?"}}},
     {{{"Walk me through how you have used {kw} in your work so far.",
        "What does careful work on {kw} look like for {a_role}, and how do you know it went well?",
        "Which part of {kw} did you find hardest to learn, and how did you get to grips with it?"},
       {"Describe a piece of work in which {kw} played a central part. What did you decide, and why?",
        "How would you explain the trade-offs involved in {kw} to a colleague who is new to it?",
        "Tell me about a time {kw} and {kw2} had to work together. How did you make them fit?"},
       {"Tell me about the most serious failure you have seen involving {kw}. What caused it, and what would you change now?",
        "If you had to set the standard for {kw} in a new team, what would you insist on and what would you leave flexible?",
        "How do you decide whether work on {kw} is good enough to hand over when time and budget are both tight?"}}}},
    {"problem_solving",
     "Describes the problem with {kw} specifically and the steps taken to solve it",
     {"Finds the cause before choosing a fix",
      {"cause", "root cause", "investigated", "diagnosed", "found", "narrowed", "tested", nullptr}},
     {{{"How did you know the problem was really solved?",
        "Who else did you involve, and at what point?"},
       {"What evidence told you where the cause was?",
        "What would you have done if that fix had also failed?"},
       {"How did you measure the effect of your fix?",
        "What would you do differently if the same problem with {kw} came back?"}}},
     {{{"Tell me about a problem with {kw} you solved recently. How did you work out what was wrong?",
        "When something goes wrong with {kw}, what are the first things you check?",
        "Describe a time you made {kw} simpler or faster for the people who depend on it."},
       {"Describe a problem with {kw} where the first fix did not work. What did you try next?",
        "Tell me about a time you had incomplete information about {kw} and still had to decide. How did you approach it?",
        "How would you investigate a sudden drop in the quality of work on {kw} that nobody can explain?"},
       {"Walk me through the hardest problem with {kw} you have solved: the options you rejected, the one you chose and how you proved it worked.",
        "Imagine the same failure in {kw} keeps coming back despite several fixes. How would you find the root cause, and how would you stop it for good?",
        "Tell me about a time a problem with {kw} turned out to be caused by {kw2}. How did you find the link?"}}}},
    {"communication",
     "Explains {kw} clearly, with a concrete example",
     {"Adapts the message to the audience and checks it was understood",
      {"audience", "explained", "simple", "example", "understood", "questions", "feedback", nullptr}},
     {{{"Who was your audience, and how did you know they understood?",
        "What would you change about how you explained {kw}?"},
       {"What objections did you hear, and how did you answer them?",
        "How did you follow up afterwards?"},
       {"What would you do differently if you had to deliver that message again?",
        "How did you measure whether your message changed anything?"}}},
     {{{"How would you explain {kw} to someone outside your field in two or three sentences?",
        "Tell me about a time you had to keep others informed about work on {kw}. How did you do it?",
        "Describe a document, presentation or message about {kw} you are proud of. Who was it for?"},
       {"Tell me about a time you had to persuade someone who disagreed with you about {kw}. What did you say, and how did it end?",
        "Describe a misunderstanding about {kw} that caused trouble. How did you clear it up?",
        "How do you adapt the way you talk about {kw} for managers, colleagues and customers?"},
       {"Tell me about a time you had to deliver bad news about {kw} to senior people. How did you prepare, and how did they react?",
        "Describe a time you had to explain a risk in {kw} that others did not want to hear. How did you get them to act?",
        "Tell me about a time something you wrote or presented on {kw} changed a decision. What made it convincing?"}}}},
    {"teamwork",
     "Gives a real example of working with others on {kw}",
     {"Names their own contribution and how they supported others",
      {"my part", "contributed", "helped", "supported", "shared", "together", "agreed", nullptr}},
     {{{"What did you learn from the others on that work?",
        "How did you keep each other informed?"},
       {"What did you do when you disagreed with a teammate?",
        "How did you make sure everyone's contribution was recognised?"},
       {"What would you do differently in that team now?",
        "How did you measure whether the team's work on {kw} succeeded?"}}},
     {{{"Tell me about a time you worked with others on {kw}. What was your part?",
        "How do you share what you know about {kw} with the rest of your team?",
        "Describe a time a colleague helped you with {kw}, or you helped them. What happened?"},
       {"Tell me about a disagreement in a team about how to handle {kw}. How was it resolved, and what was your role?",
        "Describe a time you depended on another team for {kw}. How did you keep the work moving?",
        "Tell me about a time a teammate was struggling with {kw}. What did you do?"},
       {"Tell me about a team effort on {kw} that went badly. What was your share of the problem, and what would you do differently?",
        "Describe a time you had to bring together people with competing priorities to deliver {kw}. How did you get agreement?",
        "How have you helped a team raise its standard of work on {kw} without being its manager?"}}}},
    {"leadership",
     "Shows ownership of the work on {kw} and of the people doing it",
     {"Sets a direction and takes responsibility for the outcome",
      {"goal", "plan", "decided", "responsible", "delegated", "priorities", "ownership", nullptr}},
     {{{"How did the others respond to your lead?",
        "What would you do the same way next time?"},
       {"How did you check progress without micromanaging?",
        "What did you do when someone fell behind?"},
       {"What would you do differently if you led that work on {kw} again?",
        "How did you measure the results, and over what period?"}}},
     {{{"Tell me about a time you took the lead on a task involving {kw}, even in a small way.",
        "Describe a time you noticed something about {kw} that could be better and did something about it.",
        "How would you welcome and guide a new colleague who has to learn {kw}?"},
       {"Tell me about a time you led others through a piece of work on {kw}. How did you set the direction and check progress?",
        "Describe a decision about {kw} you made that not everyone liked. How did you handle it?",
        "Tell me about a time you delegated work on {kw}. How did you choose who, and how did you follow up?"},
       {"Tell me about a time you had to turn around failing work on {kw}. What did you change first, and how did you measure the recovery?",
        "How would you build a plan for {kw} over your first year as {a_role}: the goals, the people and the risks?",
        "Tell me about a time you gave difficult feedback to someone about their work on {kw}. How did you do it, and what changed?"}}}},
    {"customer_focus",
     "Connects {kw} to what the people served actually need",
     {"Starts from the customer's need and checks the result with them",
      {"customer", "user", "client", "need", "feedback", "satisfied", "listened", nullptr}},
     {{{"How did you find out what the customer really needed?",
        "What did the customer say afterwards?"},
       {"What did you do to stop the same complaint coming back?",
        "Where did you draw the line, and why there?"},
       {"How did you measure customer satisfaction before and after?",
        "What would you do differently with that customer now?"}}},
     {{{"How does your work on {kw} affect the people it serves?",
        "Tell me about a time you used feedback from a customer or user to improve {kw}.",
        "Describe a time you went beyond what was asked on {kw} to help someone you serve."},
       {"Tell me about a time a customer or user was unhappy with {kw}. How did you handle it?",
        "Describe a time you had to balance what a customer wanted from {kw} against what was practical.",
        "How do you find out whether your work on {kw} really meets the needs of the people who rely on it?"},
       {"Tell me about a time you had to say no to an important customer about {kw}. How did you keep the relationship?",
        "Describe a time customer needs around {kw} conflicted with what your own organisation wanted. How did you resolve it?",
        "How would you measure the value of {kw} to customers, and what would you do if the numbers disappointed you?"}}}},
    {"adaptability",
     "Names the concrete change around {kw} and how it was handled",
     {"Adjusts quickly and keeps the work going during the change",
      {"changed", "adapted", "learned", "adjusted", "quickly", "flexible", "priorities", nullptr}},
     {{{"What helped you learn fastest?",
        "What did you find hardest about the change?"},
       {"What did you stop doing to make room for the change?",
        "How did you keep others informed while things were moving?"},
       {"What would you do differently if the same change happened again?",
        "How did you know your new approach to {kw} was working?"}}},
     {{{"Tell me about a time you had to learn something new about {kw} quickly.",
        "Describe a time a change in plans affected your work on {kw}. How did you adjust?",
        "How do you keep your knowledge of {kw} up to date?"},
       {"Tell me about a time the approach to {kw} changed midway through your work. What did you do?",
        "Describe a time you moved from familiar work into {kw}. How did you get up to speed?",
        "Tell me about a time you had to drop your preferred way of handling {kw} because the situation demanded it."},
       {"Tell me about a time a major change around {kw} made much of your work obsolete. How did you respond, and what did you keep?",
        "How would you lead a team through a switch to a new way of handling {kw} when some people resist it?",
        "Describe a time you had to handle {kw} and {kw2} at once under shifting priorities. How did you decide what came first?"}}}},
    {"motivation",
     "Shows genuine, specific interest in {kw}",
     {"Gives reasons tied to the work itself, not generic enthusiasm",
      {"enjoy", "interest", "proud", "because", "goal", "learn", "grow", nullptr}},
     {{{"What first got you interested in {kw}?",
        "What would make you enjoy this role even more?"},
       {"What did you learn from that work that you still use?",
        "How would you keep growing in {kw} here?"},
       {"What would make you leave a role like this one?",
        "How will you measure whether you are making progress in {kw}?"}}},
     {{{"What interests you most about {kw} in this role?",
        "Why do you want to work as {a_role}, and where does work on {kw} fit into that?",
        "What part of working on {kw} gives you the most satisfaction, and why?"},
       {"Tell me about a piece of work on {kw} you are proud of. What made it matter to you?",
        "How has your interest in {kw} shaped the choices you have made in your career so far?",
        "What would you want to have achieved in {kw} after your first six months as {a_role}?"},
       {"Tell me about a time your work on {kw} was frustrating or thankless. What kept you going?",
        "Where do you want to take your skills in {kw} over the next few years, and how does this role help?",
        "What is one belief about {kw} you have changed your mind on, and what changed it?"}}}},
    {"ethics",
     "Applies a clear standard of conduct to {kw}",
     {"Acts on the standard openly and says who was informed",
      {"rule", "policy", "standard", "honest", "reported", "raised", "transparent", "confidential"}},
     {{{"Who did you talk to about it?",
        "What guided your decision?"},
       {"What would you have done if your manager had disagreed?",
        "What did you do to stop it happening again?"},
       {"What would you do differently if you faced the same situation again?",
        "What did it cost you, and was it worth it?"}}},
     {{{"What does handling {kw} responsibly mean to you?",
        "Tell me about a time you followed a rule or standard in {kw} even though a shortcut was available.",
        "How do you handle confidential or sensitive information that comes up in work on {kw}?"},
       {"Tell me about a time you noticed a mistake in work on {kw}, yours or someone else's. What did you do?",
        "Describe a time you were asked to cut a corner on {kw}. How did you respond?",
        "How do you make sure that decisions about {kw} are fair to everyone they affect?"},
       {"Tell me about a time you raised a concern about {kw} when it was uncomfortable to do so. What happened next?",
        "Describe a situation in {kw} where the rules did not give a clear answer. How did you decide what was right?",
        "How would you respond if you found that results on {kw} had been reported more favourably than they were?"}}}},
};
// clang-format on

constexpr size_t kCompetencyCount = std::size(kCompetencies);
constexpr size_t kPerDifficulty = 3;

int difficulty_index(std::string_view d) {
    for (int i = 0; i < 3; ++i)
        if (d == kDifficulties[i]) return i;
    return -1;
}

bool all_upper(std::string_view w) {
    bool letter = false;
    for (char c : w) {
        if (c >= 'a' && c <= 'z') return false;
        if (c >= 'A' && c <= 'Z') letter = true;
    }
    return letter;
}

// A name inside a sentence: "Backend Engineer" → "backend engineer"; acronyms ("HR", "QA")
// and words with capitals inside ("DevOps") stay as written.
std::string in_sentence(std::string_view name) {
    std::string out;
    size_t i = 0;
    while (i <= name.size()) {
        size_t end = name.find(' ', i);
        if (end == std::string_view::npos) end = name.size();
        std::string_view w = name.substr(i, end - i);
        bool inner_capital = false;
        for (size_t k = 1; k < w.size(); ++k)
            if (w[k] >= 'A' && w[k] <= 'Z') inner_capital = true;
        std::string word(w);
        if (!inner_capital && !word.empty() && word[0] >= 'A' && word[0] <= 'Z')
            word[0] = static_cast<char>(word[0] - 'A' + 'a');
        if (!out.empty()) out += ' ';
        out += word;
        i = end + 1;
    }
    return out;
}

// "a backend engineer", "an account manager", "an HR partner" (an acronym is read by its
// letters: H sounds like "aitch").
std::string with_article(const std::string& role) {
    if (role.empty()) return "a candidate";
    std::string_view first(role);
    first = first.substr(0, first.find(' '));
    char c = role[0];
    bool vowel_sound;
    if (all_upper(first)) {
        vowel_sound = std::string_view("AEFHILMNORSX").find(c) != std::string_view::npos;
    } else {
        vowel_sound = std::string_view("aeiouAEIOU").find(c) != std::string_view::npos;
    }
    return (vowel_sound ? "an " : "a ") + role;
}

struct Slots {
    std::string kw, kw2, a_role, industry;
};

std::string fill(std::string_view tmpl, const Slots& s) {
    std::string out;
    size_t i = 0;
    while (i < tmpl.size()) {
        if (tmpl[i] == '{') {
            size_t end = tmpl.find('}', i);
            std::string_view name = tmpl.substr(i + 1, end - i - 1);
            if (name == "kw")
                out += s.kw;
            else if (name == "kw2")
                out += s.kw2;
            else if (name == "a_role")
                out += s.a_role;
            else if (name == "industry")
                out += s.industry;
            i = end + 1;
            continue;
        }
        out += tmpl[i++];
    }
    return out;
}

bool names_second_keyword(std::string_view tmpl) {
    return tmpl.find("{kw2}") != std::string_view::npos;
}

Generated make(const Competency& c, int d, const char* tmpl, const Slots& s, const Keyword& kw,
               const Keyword* kw2) {
    Generated g;
    g.text = fill(tmpl, s);
    g.competency = c.name;
    g.difficulty = kDifficulties[d];
    g.key_points.push_back({fill(c.keyword_point, s), kw.terms});
    if (kw2) g.key_points.push_back({fill(kSecondKeywordPoint, s), kw2->terms});
    auto fixed = [](const FixedPoint& p) {
        KeyPoint k{p.text, {}};
        for (const char* t : p.terms)
            if (t) k.terms.emplace_back(t);
        return k;
    };
    g.key_points.push_back(fixed(c.build_point));
    if (d > 0) g.key_points.push_back(fixed(kResultPoint));
    for (const char* f : c.follow_ups[static_cast<size_t>(d)]) g.follow_ups.push_back(fill(f, s));
    return g;
}

}  // namespace

Keyword keyword_from(std::string_view phrase) {
    Keyword k;
    // Surrounding spaces and runs of them: the stored keywords are typed by admins.
    std::string text;
    for (char c : phrase) {
        bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (space) {
            if (!text.empty() && text.back() != ' ') text += ' ';
        } else {
            text += c;
        }
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    k.text = text;
    std::string lower = text;
    for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    k.terms.push_back(lower);
    std::vector<keywords::Token> toks = keywords::tokenize(lower);
    if (toks.size() > 1)
        for (const keywords::Token& t : toks)
            if (t.lower.size() > 1 && !keywords::is_stop_word(t.lower)) k.terms.push_back(t.lower);
    return k;
}

std::vector<Generated> generate(const Request& r) {
    std::vector<Generated> out;
    const int d = difficulty_index(r.difficulty);
    const size_t K = r.keywords.size();
    if (d < 0 || K == 0) return out;
    std::unordered_set<std::string> seen;
    const std::string role = in_sentence(r.role);
    const size_t total = kCompetencyCount * kPerDifficulty * K;
    // p walks every (competency, template, keyword) once: competencies take turns, and the
    // keyword offset by the competency and template, so the first nine questions use the first
    // nine keywords (best first) when there are that many.
    for (size_t p = 0; p < total && out.size() < r.count; ++p) {
        const size_t ci = p % kCompetencyCount, q = p / kCompetencyCount;
        const size_t tj = q % kPerDifficulty, round = q / kPerDifficulty;
        const size_t ki = (round + ci + tj * kCompetencyCount) % K;
        const Competency& c = kCompetencies[ci];
        const char* tmpl = c.questions[static_cast<size_t>(d)][tj];
        const Keyword* kw2 = nullptr;
        if (names_second_keyword(tmpl)) {
            if (K < 2) continue;
            kw2 = &r.keywords[(ki + 1) % K];
        }
        Slots s{r.keywords[ki].text, kw2 ? kw2->text : "", with_article(role),
                in_sentence(r.industry)};
        Generated g = make(c, d, tmpl, s, r.keywords[ki], kw2);
        std::string key = normalise(g.text);
        if ((r.exclude && r.exclude->count(key)) || !seen.insert(key).second) continue;
        out.push_back(std::move(g));
    }
    return out;
}

std::string normalise(std::string_view text) {
    std::string out;
    bool gap = false;
    for (char ch : text) {
        unsigned char c = static_cast<unsigned char>(ch);
        bool keep = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c >= 0x80;
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<unsigned char>(c - 'A' + 'a');
            keep = true;
        }
        if (!keep) {
            gap = true;
            continue;
        }
        if (gap && !out.empty()) out += ' ';
        gap = false;
        out += static_cast<char>(c);
    }
    return out;
}

std::vector<std::string_view> competencies() {
    std::vector<std::string_view> out;
    for (const Competency& c : kCompetencies) out.emplace_back(c.name);
    return out;
}

size_t template_count(std::string_view difficulty) {
    return difficulty_index(difficulty) < 0 ? 0 : kCompetencyCount * kPerDifficulty;
}

}  // namespace speech::questions
