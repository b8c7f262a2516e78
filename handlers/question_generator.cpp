// POST /api/v1/questions/generate: new interview questions for a role, from the templates of
// speech/question_templates.h filled with keywords: the keyphrases of a pasted job description
// (speech/keywords.h, TF-IDF against the shipped background corpus), or the role's and its
// industry's keywords (the settings lists). Nothing is stored: the answer is a proposal an
// admin may add to the bank (POST /questions). Every user may ask; the settings lists and the
// bank are shared, so there is no owner to check.
#include <algorithm>
#include <unordered_set>

#include "core/problem.h"
#include "db/question_generator.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"
#include "speech/keywords.h"
#include "speech/question_templates.h"

namespace handlers {
namespace {

constexpr const char* kDifficulties[] = {"easy", "medium", "hard"};
constexpr const char* kCompetencies[] = {"communication", "problem_solving", "teamwork",
                                         "leadership",    "technical",       "motivation",
                                         "adaptability",  "customer_focus",  "ethics"};
constexpr int64_t kMaxDescriptionChars = 20000;
// Keyphrases taken from a description: enough for twenty questions to vary.
constexpr size_t kDescriptionKeywords = 10;
// A description with fewer keyphrases than this gets the role's keywords after its own.
constexpr size_t kFewKeywords = 3;

// One generated question as the response lists it.
struct Generated {
    std::optional<std::string> id;  // always null: not in the bank
    std::string text, industry, role, difficulty, competency;
    std::string key_points;  // rendered JSON array of {text, terms}
    std::vector<std::string> follow_ups;
};

using Rec = Generated;
// clang-format off
constexpr Field kGeneratedFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut | kNullable, .get = FIELD_GET(id),
     .description = "null: a generated question is not in the bank until an admin adds it (POST /questions)"},
    {.name = "text", .type = Type::string, .use = kOut, .get = FIELD_GET(text)},
    {.name = "industry", .type = Type::string, .use = kOut | kCreate, .get = FIELD_GET(industry),
     .min = 1, .max = 64, .description = "an industry's slug (GET /industries)", .required = kCreate},
    {.name = "role", .type = Type::string, .use = kOut | kCreate, .get = FIELD_GET(role),
     .min = 1, .max = 64, .description = "the slug of a role of that industry (GET /roles?industry=)",
     .required = kCreate},
    {.name = "difficulty", .type = Type::enumeration, .use = kOut | kCreate,
     .get = FIELD_GET(difficulty), .values = kDifficulties, .required = kCreate},
    {.name = "count", .type = Type::integer, .use = kCreate, .min = 1, .max = 20,
     .description = "how many questions", .required = kCreate},
    {.name = "job_description", .type = Type::text, .use = kCreate, .min = 0,
     .max = kMaxDescriptionChars,
     .description = "a pasted job description whose keyphrases fill the templates; absent, empty "
                    "or only white space: the role's keywords"},
    {.name = "competency", .type = Type::enumeration, .use = kOut, .get = FIELD_GET(competency),
     .values = kCompetencies},
    {.name = "key_points", .type = Type::object, .use = kOut, .get = FIELD_GET(key_points),
     .description = "what a good answer covers, the first about the question's keyword",
     .ref = "KeyPoints"},
    {.name = "follow_ups", .type = Type::array, .use = kOut, .get = FIELD_GET(follow_ups)},
};
constexpr Body kGeneratedBodies[] = {{kCreate, "QuestionGenerateRequest"}};
// clang-format on

std::string key_points_json(const std::vector<speech::interview::KeyPoint>& points) {
    core::JsonWriter w;
    w.begin_array();
    for (const auto& p : points) {
        w.begin_object().field("text", p.text).key("terms").begin_array();
        for (const std::string& t : p.terms) w.value(t);
        w.end_array().end_object();
    }
    w.end_array();
    return w.take();
}

bool blank(const std::string& s) {
    return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

// Adds each keyword once (compared normalised), skipping empty ones.
void add_keywords(std::vector<speech::questions::Keyword>& out,
                  std::unordered_set<std::string>& seen, const std::vector<std::string>& words) {
    for (const std::string& w : words) {
        std::string key = speech::questions::normalise(w);
        if (key.empty() || !seen.insert(key).second) continue;
        out.push_back(speech::questions::keyword_from(w));
    }
}

std::vector<std::string> role_stems(const std::string& name) {
    std::vector<std::string> out;
    for (const auto& t : speech::keywords::tokenize(name))
        if (!speech::keywords::is_stop_word(t.lower))
            out.push_back(speech::keywords::stem(t.lower));
    return out;
}

bool contains_all(const std::vector<std::string>& big, const std::vector<std::string>& small) {
    return std::all_of(small.begin(), small.end(), [&](const std::string& s) {
        return std::find(big.begin(), big.end(), s) != big.end();
    });
}

// A description names its own job title ("Senior Backend Engineer") more than any skill; a
// question "about backend engineer" reads badly, so a keyphrase made of the role's words, or
// holding all of them, is not a keyword.
bool names_the_role(const std::vector<std::string>& phrase, const std::vector<std::string>& title) {
    if (title.empty()) return false;
    return contains_all(title, phrase) || contains_all(phrase, title);
}

// The description's keyphrases when it has any, the role's then the industry's keywords after
// them when it has few, and the role's name when nobody has any.
std::vector<speech::questions::Keyword> keywords_for(const std::optional<std::string>& description,
                                                     const db::KeywordSource& industry,
                                                     const db::KeywordSource& role) {
    std::vector<speech::questions::Keyword> out;
    std::unordered_set<std::string> seen;
    if (description && !blank(*description)) {
        std::vector<std::string> phrases;
        const std::vector<std::string> title = role_stems(role.name);
        for (const auto& k : speech::keywords::extract(*description, kDescriptionKeywords))
            if (!names_the_role(k.stems, title)) phrases.push_back(k.text);
        add_keywords(out, seen, phrases);
    }
    if (out.size() < kFewKeywords) {
        add_keywords(out, seen, role.keywords);
        add_keywords(out, seen, industry.keywords);
    }
    if (out.empty()) add_keywords(out, seen, {role.name});
    return out;
}

}  // namespace

constexpr Resource kGeneratedQuestions{
    .schema = "GeneratedQuestion", .fields = kGeneratedFields, .bodies = kGeneratedBodies};

Response questions_generate(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kGeneratedQuestions, body.get(), kCreate);
    auto industry = db::find_industry_keywords(ctx.db, *in.str("industry"));
    if (!industry) throw core::ApiError::unprocessable("industry", "no such industry");
    auto role = db::find_role_keywords(ctx.db, *in.str("role"));
    if (!role) throw core::ApiError::unprocessable("role", "no such role");
    if (role->industry_slug != industry->slug)
        throw core::ApiError::unprocessable("role", "is not a role of industry " + industry->slug);

    std::unordered_set<std::string> bank;
    for (const std::string& t : db::bank_question_texts(ctx.db))
        bank.insert(speech::questions::normalise(t));
    speech::questions::Request r;
    r.role = role->name;
    r.industry = industry->name;
    r.difficulty = *in.str("difficulty");
    r.count = std::stoul(*in.str("count"));
    r.keywords = keywords_for(in.str("job_description"), *industry, *role);
    r.exclude = &bank;

    core::JsonWriter w;
    w.begin_object().key("items").begin_array();
    for (const auto& g : speech::questions::generate(r)) {
        Generated out{std::nullopt,
                      g.text,
                      industry->slug,
                      role->slug,
                      g.difficulty,
                      g.competency,
                      key_points_json(g.key_points),
                      g.follow_ups};
        w.begin_object();
        write_fields(w, kGeneratedQuestions, &out);
        w.end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
}

}  // namespace handlers
