// Queries of the question generator (see question_generator.h).
#include "db/question_generator.h"

#include "core/json.h"

namespace db {
namespace {

constexpr Statement kIndustry{"generator_industry", R"sql(
    SELECT id, slug, name, to_jsonb(keywords)::text AS keywords, slug AS industry_slug
    FROM industries WHERE slug = $1)sql",
                              kIdempotent};
constexpr Statement kRole{"generator_role", R"sql(
    SELECT r.id, r.slug, r.name, to_jsonb(r.keywords)::text AS keywords,
           i.slug AS industry_slug
    FROM roles r JOIN industries i ON i.id = r.industry_id
    WHERE r.slug = $1)sql",
                          kIdempotent};
constexpr Statement kBankTexts{"generator_bank_texts", "SELECT text FROM questions", kIdempotent};

std::optional<KeywordSource> source_from(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    KeywordSource s;
    s.id = row.str("id");
    s.slug = row.str("slug");
    s.name = row.str("name");
    s.industry_slug = row.str("industry_slug");
    std::string kw = row.str("keywords");
    core::JsonPtr list(cJSON_Parse(kw.c_str()));
    for (const cJSON* k = list ? list->child : nullptr; k; k = k->next)
        if (cJSON_IsString(k)) s.keywords.emplace_back(k->valuestring);
    return s;
}

}  // namespace

std::optional<KeywordSource> find_industry_keywords(Db& db, const std::string& slug) {
    return source_from(db.exec(kIndustry, {slug}));
}

std::optional<KeywordSource> find_role_keywords(Db& db, const std::string& slug) {
    return source_from(db.exec(kRole, {slug}));
}

std::vector<std::string> bank_question_texts(Db& db) {
    std::vector<std::string> out;
    for (auto& t : db.exec(kBankTexts, {}).single_column())
        if (t) out.push_back(std::move(*t));
    return out;
}

}  // namespace db
