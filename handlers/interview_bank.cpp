// The interview bank: the settings lists (GET /industries, GET /roles?industry=) and the
// questions (GET /questions?industry&role&difficulty&competency), keyset-paged like every
// list. Everyone reads them; admins add, change and remove entries (a member's write answers
// 403 from the route's kAdmin flag, before the handler). Seeded by 0011_interview_bank.sql.
//
// The API speaks slugs: a question's industry and role are the slugs (null: it applies to
// every industry / every role), and so are the filters. An unknown slug in a filter is 422
// naming the parameter, not an empty list: a typo must not look like an empty bank.
#include <cctype>

#include "core/json.h"
#include "core/problem.h"
#include "db/interview_bank.h"
#include "db/pg.h"
#include "handlers/common.h"
#include "handlers/resource.h"
#include "handlers/routes.h"

namespace handlers {
namespace {

constexpr const char* kDifficulties[] = {"easy", "medium", "hard"};
// The CHECK list of questions_competency_check.
constexpr const char* kCompetencies[] = {"communication", "problem_solving", "teamwork",
                                         "leadership",    "technical",       "motivation",
                                         "adaptability",  "customer_focus",  "ethics"};

constexpr int kMinKeyPoints = 2, kMaxKeyPoints = 5;
constexpr int kMaxTerms = 10;
constexpr size_t kMaxKeyPointChars = 300, kMaxTermChars = 100;

// The slug rule of the tables' CHECKs: lower-case letters and digits in dash-separated words.
bool is_slug(std::string_view s) {
    if (s.empty() || s.size() > 64 || s.front() == '-' || s.back() == '-') return false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!word && !(c == '-' && s[i - 1] != '-')) return false;
    }
    return true;
}

template <const char* Name>
std::string slug_or_422(std::string_view s) {
    if (!is_slug(s))
        throw core::ApiError::unprocessable(
            Name, "must be lower-case letters and digits in words joined by single dashes");
    return std::string(s);
}
constexpr char kSlug[] = "slug", kIndustry[] = "industry", kRole[] = "role";

// ---------------------------------------------------------------------------------------------
// The descriptions

constexpr const char* kKeywordsHelp =
    "words and phrases POST /questions/generate fills its templates with; absent on create: none";

// clang-format off
#define BANK_COMMON_FIELDS(kind)                                                                   \
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},                         \
    {.name = "slug", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(slug), \
     .min = 1, .max = 64, .description = "what the API names the " kind " by: lower-case words "    \
     "joined by dashes, unique", .required = kCreate, .normalise = slug_or_422<kSlug>},            \
    {.name = "name", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(name), \
     .min = 1, .max = 200, .required = kCreate}

using Rec = db::Industry;
constexpr Field kIndustryFields[] = {
    BANK_COMMON_FIELDS("industry"),
    {.name = "keywords", .type = Type::array, .use = kOut | kCreate | kPatch,
     .get = FIELD_GET(keywords), .min = 1, .max = 100, .description = kKeywordsHelp, .def = "[]",
     .max_items = 50},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
};
constexpr Body kIndustryBodies[] = {{kCreate, "IndustryCreate"}, {kPatch, "IndustryUpdate"}};

#undef FIELD_GET
#define FIELD_GET(m) \
    [](const void* p) -> ::handlers::Value { return static_cast<const db::BankRole*>(p)->m; }
constexpr Field kRoleFields[] = {
    BANK_COMMON_FIELDS("role"),
    {.name = "industry", .type = Type::string, .use = kOut | kCreate | kPatch | kFilter,
     .get = FIELD_GET(industry), .min = 1, .max = 64,
     .description = "the industry's slug; as a filter, an unknown one is 422",
     .required = kCreate, .normalise = slug_or_422<kIndustry>},
    {.name = "keywords", .type = Type::array, .use = kOut | kCreate | kPatch,
     .get = FIELD_GET(keywords), .min = 1, .max = 100, .description = kKeywordsHelp, .def = "[]",
     .max_items = 50},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
};
constexpr Body kRoleBodies[] = {{kCreate, "RoleCreate"}, {kPatch, "RoleUpdate"}};

#undef FIELD_GET
#define FIELD_GET(m) \
    [](const void* p) -> ::handlers::Value { return static_cast<const db::Question*>(p)->m; }
constexpr Field kQuestionFields[] = {
    {.name = "id", .type = Type::uuid, .use = kOut, .get = FIELD_GET(id)},
    {.name = "text", .type = Type::string, .use = kOut | kCreate | kPatch, .get = FIELD_GET(text),
     .min = 10, .max = 1000, .description = "the question as the candidate hears it; unique in the bank",
     .required = kCreate},
    {.name = "industry", .type = Type::string,
     .use = kOut | kCreate | kPatch | kFilter | kNullable, .get = FIELD_GET(industry), .min = 1,
     .max = 64,
     .description = "the industry's slug; null: every industry (and so every role). A filter "
                    "keeps these and the industry's own; an unknown slug is 422. On create a "
                    "role's industry is taken when this is absent",
     .normalise = slug_or_422<kIndustry>},
    {.name = "role", .type = Type::string, .use = kOut | kCreate | kPatch | kFilter | kNullable,
     .get = FIELD_GET(role), .min = 1, .max = 64,
     .description = "the role's slug (a role of `industry`); null: every role. A filter keeps "
                    "these and the role's own among its industry's; an unknown slug is 422",
     .normalise = slug_or_422<kRole>},
    {.name = "difficulty", .type = Type::enumeration, .use = kOut | kCreate | kPatch | kFilter,
     .get = FIELD_GET(difficulty), .values = kDifficulties, .required = kCreate},
    {.name = "competency", .type = Type::enumeration, .use = kOut | kCreate | kPatch | kFilter,
     .get = FIELD_GET(competency), .values = kCompetencies, .required = kCreate},
    // Read by take_key_points (an array of objects is no table type); required on create.
    {.name = "key_points", .type = Type::object, .use = kOut | kCreate | kPatch,
     .get = FIELD_GET(key_points),
     .description = "2-5 points a good answer covers, each {text, terms: 1-10 stems, synonyms or "
                    "phrases matched stemmed over the answer}; required on create",
     .ref = "KeyPoints"},
    {.name = "follow_ups", .type = Type::array, .use = kOut | kCreate | kPatch,
     .get = FIELD_GET(follow_ups), .min = 5, .max = 500,
     .description = "the question's own follow-up questions; absent on create: none", .def = "[]",
     .max_items = 5},
    {.name = "created_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(created_at)},
    {.name = "updated_at", .type = Type::timestamp, .use = kOut, .get = FIELD_GET(updated_at)},
};
constexpr Body kQuestionBodies[] = {{kCreate, "QuestionCreate"}, {kPatch, "QuestionUpdate"}};
#undef BANK_COMMON_FIELDS
// clang-format on

}  // namespace

// Keyset paging's two getters, for any of the three records.
template <class T>
Value cursor_key_of(const void* p) {
    return static_cast<const T*>(p)->cursor_key;
}
template <class T>
Value id_of_record(const void* p) {
    return static_cast<const T*>(p)->id;
}

constexpr Resource kIndustries{.schema = "Industry",
                               .fields = kIndustryFields,
                               .bodies = kIndustryBodies,
                               .cursor_key = cursor_key_of<db::Industry>,
                               .cursor_id = id_of_record<db::Industry>};
constexpr Resource kBankRoles{.schema = "Role",
                              .fields = kRoleFields,
                              .bodies = kRoleBodies,
                              .cursor_key = cursor_key_of<db::BankRole>,
                              .cursor_id = id_of_record<db::BankRole>};
constexpr Resource kQuestions{.schema = "Question",
                              .fields = kQuestionFields,
                              .bodies = kQuestionBodies,
                              .cursor_key = cursor_key_of<db::Question>,
                              .cursor_id = id_of_record<db::Question>};

namespace {

// ---------------------------------------------------------------------------------------------
// Bodies and filters

std::optional<std::string> list_param(const std::optional<std::vector<std::string>>& items) {
    if (!items) return std::nullopt;
    return db::array_literal(*items);
}

db::BankPage bank_page(const Page& p) {
    return db::BankPage{p.key, p.id};
}

std::string industry_id_or_422(Ctx& ctx, const std::string& slug, const char* field) {
    auto id = db::industry_id_by_slug(ctx.db, slug);
    if (!id) throw core::ApiError::unprocessable(field, "no industry has the slug " + slug);
    return *id;
}

db::RoleRef role_or_422(Ctx& ctx, const std::string& slug) {
    auto r = db::role_by_slug(ctx.db, slug);
    if (!r) throw core::ApiError::unprocessable("role", "no role has the slug " + slug);
    return *r;
}

std::string lower_ascii(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string bounded_string_or_422(const cJSON* v, size_t max, const std::string& field) {
    if (!cJSON_IsString(v)) throw core::ApiError::bad_request("must be a string", field);
    std::string s = v->valuestring;
    if (s.find_first_not_of(" \t\r\n") == std::string::npos)
        throw core::ApiError::unprocessable(field, "must not be blank");
    if (!core::valid_utf8(s) || core::utf8_length(s) > max)
        throw core::ApiError::unprocessable(
            field, "must be at most " + std::to_string(max) + " characters");
    return s;
}

// One {text, terms} → its compact JSON (terms lower-cased: the matching is case-blind).
void write_key_point(core::JsonWriter& w, const cJSON* kp, const std::string& at) {
    if (!cJSON_IsObject(kp)) throw core::ApiError::bad_request("must be {text, terms}", at);
    for (const cJSON* f = kp->child; f; f = f->next)
        if (std::string_view(f->string) != "text" && std::string_view(f->string) != "terms")
            throw core::ApiError::bad_request("unknown field", at + "." + f->string);
    if (!cJSON_GetObjectItemCaseSensitive(kp, "text"))
        throw core::ApiError::unprocessable(at + ".text", "is required");
    std::string text = bounded_string_or_422(cJSON_GetObjectItemCaseSensitive(kp, "text"),
                                             kMaxKeyPointChars, at + ".text");
    const cJSON* terms = cJSON_GetObjectItemCaseSensitive(kp, "terms");
    if (terms && !cJSON_IsArray(terms))
        throw core::ApiError::bad_request("must be an array of strings", at + ".terms");
    int n = terms ? cJSON_GetArraySize(terms) : 0;
    if (n < 1 || n > kMaxTerms)
        throw core::ApiError::unprocessable(
            at + ".terms", "must be an array of 1 to " + std::to_string(kMaxTerms) + " strings");
    w.begin_object().field("text", text).key("terms").begin_array();
    int i = 0;
    for (const cJSON* t = terms->child; t; t = t->next, ++i)
        w.value(lower_ascii(
            bounded_string_or_422(t, kMaxTermChars, at + ".terms[" + std::to_string(i) + "]")));
    w.end_array().end_object();
}

// key_points taken out of the body (read_body knows no array of objects) and checked like
// read_body checks a field: a wrong JSON type is 400, a count or length out of bounds 422;
// key_points[2].terms names the part. nullopt when absent.
std::optional<std::string> take_key_points(cJSON* body) {
    if (!cJSON_IsObject(body)) return std::nullopt;  // read_body refuses it
    core::JsonPtr kps(cJSON_DetachItemFromObjectCaseSensitive(body, "key_points"));
    if (!kps) return std::nullopt;
    if (cJSON_IsNull(kps.get())) throw core::ApiError::unprocessable("key_points", "is required");
    if (!cJSON_IsArray(kps.get()))
        throw core::ApiError::bad_request("must be an array of key points", "key_points");
    int n = cJSON_GetArraySize(kps.get());
    if (n < kMinKeyPoints || n > kMaxKeyPoints)
        throw core::ApiError::unprocessable(
            "key_points", "must be an array of " + std::to_string(kMinKeyPoints) + " to " +
                              std::to_string(kMaxKeyPoints) + " key points");
    core::JsonWriter w;
    w.begin_array();
    int i = 0;
    for (const cJSON* kp = kps->child; kp; kp = kp->next, ++i)
        write_key_point(w, kp, "key_points[" + std::to_string(i) + "]");
    w.end_array();
    return w.take();
}

// Where a question applies, from the body's industry and role slugs. A role brings its own
// industry when the body names none; a role of another industry than the one named is 422;
// clearing the industry clears the role (a role needs its industry).
struct Placement {
    bool set_industry = false, set_role = false;
    std::optional<std::string> industry_id, role_id;
};

Placement placement_or_422(Ctx& ctx, const Input& in) {
    Placement p;
    if (auto slug = in.str("industry")) {
        p.set_industry = true;
        p.industry_id = industry_id_or_422(ctx, *slug, "industry");
    } else if (in.is_null("industry")) {
        p.set_industry = p.set_role = true;
    }
    if (auto slug = in.str("role")) {
        db::RoleRef r = role_or_422(ctx, *slug);
        if (p.set_industry && p.industry_id != r.industry_id)
            throw core::ApiError::unprocessable(
                "role", "is a role of " + r.industry + ", not of the question's industry");
        p.set_industry = p.set_role = true;
        p.industry_id = r.industry_id;
        p.role_id = r.id;
    } else if (in.is_null("role")) {
        p.set_role = true;
    }
    return p;
}

// The constraint-decided refusals (so that two admins writing at once cannot both pass a
// check in the code): a taken slug or wording → 409 naming the field; a row others refer to
// → 409; a role that is not of the question's industry → 422.
struct Refusal {
    const char* sqlstate;
    const char* constraint;  // "" matches any
    int status;
    const char* field;
    const char* detail;
};

template <size_t N, class F>
auto refused_as(const Refusal (&table)[N], F&& f) {
    try {
        return f();
    } catch (const db::DbError& e) {
        for (const Refusal& r : table)
            if (e.sqlstate == r.sqlstate && (!*r.constraint || e.constraint == r.constraint)) {
                if (r.status == 422) throw core::ApiError::unprocessable(r.field, r.detail);
                throw core::ApiError::conflict(r.field, r.detail);
            }
        throw;
    }
}

constexpr Refusal kIndustryWrites[] = {
    {"23505", "industries_slug_key", 409, "slug", "an industry with this slug already exists"},
    {"23503", "", 409, "",
     "roles, questions or interviews still refer to this industry: remove or move them first"},
};
constexpr Refusal kRoleWrites[] = {
    {"23505", "roles_slug_key", 409, "slug", "a role with this slug already exists"},
    {"23503", "roles_industry_fkey", 422, "industry", "no industry has that slug"},
    {"23503", "", 409, "",
     "questions or interviews still refer to this role in its industry: remove them first"},
};
constexpr Refusal kQuestionWrites[] = {
    {"23505", "questions_text_key", 409, "text", "a question with this wording is in the bank"},
    {"23503", "questions_role_fkey", 422, "role", "is not a role of the question's industry"},
    {"23503", "questions_industry_fkey", 422, "industry", "no industry has that slug"},
    {"23514", "questions_role_needs_industry", 422, "role", "a role needs its industry"},
};

template <class T>
Response created(const Resource& res, const T& made, const char* collection) {
    return Response::json(201, to_json(res, made))
        .header("Location", std::string("/api/v1/") + collection + "/" + made.id);
}

std::string id_of(const Request& req) {
    return std::string(req.path_param("id"));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Industries

Response industries_list(Request& req, Ctx& ctx) {
    Page p = read_page(req);
    auto rows = db::list_industries(ctx.db, bank_page(p), p.limit + 1);
    return list_response(kIndustries, rows, p.limit);
}

Response industries_get(Request& req, Ctx& ctx) {
    auto i = db::find_industry(ctx.db, id_of(req));
    if (!i) throw core::ApiError::not_found("no such industry");
    return Response::json(200, to_json(kIndustries, *i));
}

Response industries_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kIndustries, body.get(), kCreate);
    db::NewIndustry i{in.take("slug"), in.take("name"),
                      *list_param(in.list("keywords").value_or(std::vector<std::string>{}))};
    auto made = refused_as(kIndustryWrites, [&] { return db::insert_industry(ctx.db, i); });
    return created(kIndustries, made, "industries");
}

Response industries_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kIndustries, body.get(), kPatch);
    db::IndustryChanges c{in.str("slug"), in.str("name"), list_param(in.list("keywords"))};
    auto i =
        refused_as(kIndustryWrites, [&] { return db::update_industry(ctx.db, id_of(req), c); });
    if (!i) throw core::ApiError::not_found("no such industry");
    return Response::json(200, to_json(kIndustries, *i));
}

Response industries_delete(Request& req, Ctx& ctx) {
    if (!refused_as(kIndustryWrites, [&] { return db::delete_industry(ctx.db, id_of(req)); }))
        throw core::ApiError::not_found("no such industry");
    return Response::no_content();
}

// ---------------------------------------------------------------------------------------------
// Roles

Response roles_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kBankRoles, req);
    Page p = read_page(req);
    std::optional<std::string> industry;
    if (auto slug = q.str("industry")) industry = industry_id_or_422(ctx, *slug, "industry");
    auto rows = db::list_roles(ctx.db, industry, bank_page(p), p.limit + 1);
    return list_response(kBankRoles, rows, p.limit);
}

Response roles_get(Request& req, Ctx& ctx) {
    auto r = db::find_role(ctx.db, id_of(req));
    if (!r) throw core::ApiError::not_found("no such role");
    return Response::json(200, to_json(kBankRoles, *r));
}

Response roles_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kBankRoles, body.get(), kCreate);
    db::NewRole r{industry_id_or_422(ctx, in.take("industry"), "industry"), in.take("slug"),
                  in.take("name"),
                  *list_param(in.list("keywords").value_or(std::vector<std::string>{}))};
    auto made = refused_as(kRoleWrites, [&] { return db::insert_role(ctx.db, r); });
    return created(kBankRoles, made, "roles");
}

Response roles_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    Input in = read_body(kBankRoles, body.get(), kPatch);
    db::RoleChanges c{std::nullopt, in.str("slug"), in.str("name"),
                      list_param(in.list("keywords"))};
    if (auto slug = in.str("industry")) c.industry_id = industry_id_or_422(ctx, *slug, "industry");
    auto r = refused_as(kRoleWrites, [&] { return db::update_role(ctx.db, id_of(req), c); });
    if (!r) throw core::ApiError::not_found("no such role");
    return Response::json(200, to_json(kBankRoles, *r));
}

Response roles_delete(Request& req, Ctx& ctx) {
    if (!refused_as(kRoleWrites, [&] { return db::delete_role(ctx.db, id_of(req)); }))
        throw core::ApiError::not_found("no such role");
    return Response::no_content();
}

// ---------------------------------------------------------------------------------------------
// Questions

Response questions_list(Request& req, Ctx& ctx) {
    Input q = read_filters(kQuestions, req);
    Page p = read_page(req);
    db::QuestionFilter f{std::nullopt, std::nullopt, q.str("difficulty"), q.str("competency")};
    if (auto slug = q.str("industry")) f.industry_id = industry_id_or_422(ctx, *slug, "industry");
    if (auto slug = q.str("role")) f.role_id = role_or_422(ctx, *slug).id;
    auto rows = db::list_questions(ctx.db, f, bank_page(p), p.limit + 1);
    return list_response(kQuestions, rows, p.limit);
}

Response questions_get(Request& req, Ctx& ctx) {
    auto q = db::find_question(ctx.db, id_of(req));
    if (!q) throw core::ApiError::not_found("no such question");
    return Response::json(200, to_json(kQuestions, *q));
}

Response questions_create(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    std::optional<std::string> key_points = take_key_points(body.get());
    Input in = read_body(kQuestions, body.get(), kCreate);
    if (!key_points) throw core::ApiError::unprocessable("key_points", "is required");
    Placement at = placement_or_422(ctx, in);
    db::NewQuestion q{at.industry_id,
                      at.role_id,
                      in.take("difficulty"),
                      in.take("competency"),
                      in.take("text"),
                      std::move(*key_points),
                      *list_param(in.list("follow_ups").value_or(std::vector<std::string>{}))};
    auto made = refused_as(kQuestionWrites, [&] { return db::insert_question(ctx.db, q); });
    return created(kQuestions, made, "questions");
}

Response questions_update(Request& req, Ctx& ctx) {
    core::JsonPtr body = json_body(req);
    std::optional<std::string> key_points = take_key_points(body.get());
    Input in = read_body(kQuestions, body.get(), kPatch);
    Placement at = placement_or_422(ctx, in);
    db::QuestionChanges c{
        at.set_industry, at.set_role,           at.industry_id,
        at.role_id,      in.str("difficulty"),  in.str("competency"),
        in.str("text"),  std::move(key_points), list_param(in.list("follow_ups"))};
    auto q =
        refused_as(kQuestionWrites, [&] { return db::update_question(ctx.db, id_of(req), c); });
    if (!q) throw core::ApiError::not_found("no such question");
    return Response::json(200, to_json(kQuestions, *q));
}

Response questions_delete(Request& req, Ctx& ctx) {
    if (!db::delete_question(ctx.db, id_of(req)))
        throw core::ApiError::not_found("no such question");
    return Response::no_content();
}

}  // namespace handlers
