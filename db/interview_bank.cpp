// Queries on the interview bank (sql/migrations/0010_interviews.sql). Lists are keyset-paged
// newest first like every other list; the seed's rows share one created_at, so the id breaks
// the tie and a walk still meets every row once.
#include "db/interview_bank.h"

namespace db {
namespace {

#define CURSOR_KEY(t) "(extract(epoch from " t ".created_at) * 1000000)::bigint"
#define AFTER_CURSOR(t, k, i) \
    "($" k "::bigint IS NULL OR (" CURSOR_KEY(t) ", " t ".id) < ($" k "::bigint, $" i "::uuid))"

#define INDUSTRY_COLUMNS                                                                   \
    "id, slug, name, to_jsonb(keywords)::text AS keywords, "                               \
    "api_time(created_at) AS created_at, api_time(updated_at) AS updated_at, " CURSOR_KEY( \
        "industries") " AS cursor_key"

constexpr Statement kIndustryId{"bank_industry_id", "SELECT id FROM industries WHERE slug = $1",
                                kIdempotent};
constexpr Statement kRoleRef{"bank_role_ref", R"sql(
    SELECT r.id, r.industry_id, i.slug AS industry
      FROM roles r JOIN industries i ON i.id = r.industry_id WHERE r.slug = $1)sql",
                             kIdempotent};

constexpr Statement kIndustryList{
    "bank_industries_list",
    "SELECT " INDUSTRY_COLUMNS " FROM industries WHERE " AFTER_CURSOR("industries", "1", "2") R"sql(
    ORDER BY industries.created_at DESC, industries.id DESC LIMIT $3)sql",
    kIdempotent};
constexpr Statement kIndustryFind{"bank_industries_find",
                                  "SELECT " INDUSTRY_COLUMNS " FROM industries WHERE id = $1",
                                  kIdempotent};
constexpr Statement kIndustryInsert{"bank_industries_insert", R"sql(
    INSERT INTO industries (slug, name, keywords) VALUES ($1, $2, $3::text[])
    RETURNING )sql" INDUSTRY_COLUMNS};
constexpr Statement kIndustryUpdate{"bank_industries_update", R"sql(
    UPDATE industries SET slug = coalesce($2, slug), name = coalesce($3, name),
        keywords = coalesce($4::text[], keywords), updated_at = now()
    WHERE id = $1
    RETURNING )sql" INDUSTRY_COLUMNS};
constexpr Statement kIndustryDelete{"bank_industries_delete",
                                    "DELETE FROM industries WHERE id = $1 RETURNING id"};

// A role with its industry's slug: `src` is the roles table or a CTE of written rows.
#define ROLE_SELECT(src)                                                                        \
    "SELECT r.id, r.slug, r.name, i.slug AS industry, to_jsonb(r.keywords)::text AS keywords, " \
    "api_time(r.created_at) AS created_at, api_time(r.updated_at) AS updated_at, " CURSOR_KEY(  \
        "r") " AS cursor_key FROM " src " r JOIN industries i ON i.id = r.industry_id"

constexpr Statement kRoleList{"bank_roles_list", ROLE_SELECT("roles") R"sql(
    WHERE ($1::uuid IS NULL OR r.industry_id = $1) AND )sql" AFTER_CURSOR("r", "2", "3") R"sql(
    ORDER BY r.created_at DESC, r.id DESC LIMIT $4)sql",
                              kIdempotent};
constexpr Statement kRoleFind{"bank_roles_find", ROLE_SELECT("roles") " WHERE r.id = $1",
                              kIdempotent};
constexpr Statement kRoleInsert{"bank_roles_insert", R"sql(
    WITH w AS (INSERT INTO roles (industry_id, slug, name, keywords)
               VALUES ($1, $2, $3, $4::text[]) RETURNING *)
    )sql" ROLE_SELECT("w")};
constexpr Statement kRoleUpdate{"bank_roles_update", R"sql(
    WITH w AS (UPDATE roles SET industry_id = coalesce($2::uuid, industry_id),
                   slug = coalesce($3, slug), name = coalesce($4, name),
                   keywords = coalesce($5::text[], keywords), updated_at = now()
               WHERE id = $1 RETURNING *)
    )sql" ROLE_SELECT("w")};
constexpr Statement kRoleDelete{"bank_roles_delete",
                                "DELETE FROM roles WHERE id = $1 RETURNING id"};

// A question with its industry's and role's slugs (NULL: applies to all).
#define QUESTION_SELECT(src)                                                                   \
    "SELECT q.id, q.text, i.slug AS industry, ro.slug AS role, q.difficulty, q.competency, "   \
    "q.key_points::text AS key_points, to_jsonb(q.follow_ups)::text AS follow_ups, "           \
    "api_time(q.created_at) AS created_at, api_time(q.updated_at) AS updated_at, " CURSOR_KEY( \
        "q") " AS cursor_key FROM " src                                                        \
             " q "                                                                             \
             "LEFT JOIN industries i ON i.id = q.industry_id LEFT JOIN roles ro ON ro.id = "   \
             "q.role_id"

// A NULL industry or role matches every filter; role= also keeps only the questions of the
// role's own industry (or of none): a software question is no nurse's.
constexpr Statement kQuestionList{"bank_questions_list", QUESTION_SELECT("questions") R"sql(
    WHERE ($1::uuid IS NULL OR q.industry_id IS NULL OR q.industry_id = $1)
      AND ($2::uuid IS NULL
           OR ((q.industry_id IS NULL
                OR q.industry_id = (SELECT industry_id FROM roles WHERE id = $2))
               AND (q.role_id IS NULL OR q.role_id = $2)))
      AND ($3::text IS NULL OR q.difficulty = $3)
      AND ($4::text IS NULL OR q.competency = $4)
      AND )sql" AFTER_CURSOR("q", "5", "6") R"sql(
    ORDER BY q.created_at DESC, q.id DESC LIMIT $7)sql",
                                  kIdempotent};
constexpr Statement kQuestionFind{"bank_questions_find",
                                  QUESTION_SELECT("questions") " WHERE q.id = $1", kIdempotent};
constexpr Statement kQuestionInsert{"bank_questions_insert", R"sql(
    WITH w AS (INSERT INTO questions (industry_id, role_id, difficulty, competency, text,
                                      key_points, follow_ups)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::text[]) RETURNING *)
    )sql" QUESTION_SELECT("w")};
constexpr Statement kQuestionUpdate{"bank_questions_update", R"sql(
    WITH w AS (UPDATE questions SET
                   industry_id = CASE WHEN $2::boolean THEN $3::uuid ELSE industry_id END,
                   role_id = CASE WHEN $4::boolean THEN $5::uuid ELSE role_id END,
                   difficulty = coalesce($6, difficulty), competency = coalesce($7, competency),
                   text = coalesce($8, text), key_points = coalesce($9::jsonb, key_points),
                   follow_ups = coalesce($10::text[], follow_ups), updated_at = now()
               WHERE id = $1 RETURNING *)
    )sql" QUESTION_SELECT("w")};
constexpr Statement kQuestionDelete{"bank_questions_delete",
                                    "DELETE FROM questions WHERE id = $1 RETURNING id"};

Industry industry_from(const Result& r, int i) {
    Row row(r, i);
    return Industry{row.str("id"),        row.str("slug"),       row.str("name"),
                    row.str("keywords"),  row.str("created_at"), row.str("updated_at"),
                    row.str("cursor_key")};
}

BankRole role_from(const Result& r, int i) {
    Row row(r, i);
    return BankRole{row.str("id"),         row.str("slug"),      row.str("name"),
                    row.str("industry"),   row.str("keywords"),  row.str("created_at"),
                    row.str("updated_at"), row.str("cursor_key")};
}

Question question_from(const Result& r, int i) {
    Row row(r, i);
    Question q;
    q.id = row.str("id");
    q.text = row.str("text");
    q.industry = row.opt("industry");
    q.role = row.opt("role");
    q.difficulty = row.str("difficulty");
    q.competency = row.str("competency");
    q.key_points = row.str("key_points");
    q.follow_ups = row.str("follow_ups");
    q.created_at = row.str("created_at");
    q.updated_at = row.str("updated_at");
    q.cursor_key = row.str("cursor_key");
    return q;
}

template <class T, T (*From)(const Result&, int)>
std::vector<T> all(const Result& r) {
    std::vector<T> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(From(r, i));
    return out;
}

template <class T, T (*From)(const Result&, int)>
std::optional<T> first(const Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return From(r, 0);
}

Param flag(bool b) {
    return std::string(b ? "true" : "false");
}

}  // namespace

std::optional<std::string> industry_id_by_slug(Db& db, const std::string& slug) {
    Result r = db.exec(kIndustryId, {slug});
    if (r.rows() == 0) return std::nullopt;
    return Row(r, 0).str("id");
}

std::optional<RoleRef> role_by_slug(Db& db, const std::string& slug) {
    Result r = db.exec(kRoleRef, {slug});
    if (r.rows() == 0) return std::nullopt;
    Row row(r, 0);
    return RoleRef{row.str("id"), row.str("industry_id"), row.str("industry")};
}

std::vector<Industry> list_industries(Db& db, const BankPage& p, int limit) {
    return all<Industry, industry_from>(
        db.exec(kIndustryList, {p.before_key, p.before_id, std::to_string(limit)}));
}

std::optional<Industry> find_industry(Db& db, const std::string& id) {
    return first<Industry, industry_from>(db.exec(kIndustryFind, {id}));
}

Industry insert_industry(Db& db, const NewIndustry& i) {
    return industry_from(db.exec(kIndustryInsert, {i.slug, i.name, i.keywords}), 0);
}

std::optional<Industry> update_industry(Db& db, const std::string& id, const IndustryChanges& c) {
    return first<Industry, industry_from>(
        db.exec(kIndustryUpdate, {id, c.slug, c.name, c.keywords}));
}

bool delete_industry(Db& db, const std::string& id) {
    return db.exec(kIndustryDelete, {id}).rows() > 0;
}

std::vector<BankRole> list_roles(Db& db, const std::optional<std::string>& industry_id,
                                 const BankPage& p, int limit) {
    return all<BankRole, role_from>(
        db.exec(kRoleList, {industry_id, p.before_key, p.before_id, std::to_string(limit)}));
}

std::optional<BankRole> find_role(Db& db, const std::string& id) {
    return first<BankRole, role_from>(db.exec(kRoleFind, {id}));
}

BankRole insert_role(Db& db, const NewRole& r) {
    return role_from(db.exec(kRoleInsert, {r.industry_id, r.slug, r.name, r.keywords}), 0);
}

std::optional<BankRole> update_role(Db& db, const std::string& id, const RoleChanges& c) {
    return first<BankRole, role_from>(
        db.exec(kRoleUpdate, {id, c.industry_id, c.slug, c.name, c.keywords}));
}

bool delete_role(Db& db, const std::string& id) {
    return db.exec(kRoleDelete, {id}).rows() > 0;
}

std::vector<Question> list_questions(Db& db, const QuestionFilter& f, const BankPage& p,
                                     int limit) {
    return all<Question, question_from>(
        db.exec(kQuestionList, {f.industry_id, f.role_id, f.difficulty, f.competency, p.before_key,
                                p.before_id, std::to_string(limit)}));
}

std::optional<Question> find_question(Db& db, const std::string& id) {
    return first<Question, question_from>(db.exec(kQuestionFind, {id}));
}

Question insert_question(Db& db, const NewQuestion& q) {
    return question_from(
        db.exec(kQuestionInsert, {q.industry_id, q.role_id, q.difficulty, q.competency, q.text,
                                  q.key_points, q.follow_ups}),
        0);
}

std::optional<Question> update_question(Db& db, const std::string& id, const QuestionChanges& c) {
    return first<Question, question_from>(db.exec(
        kQuestionUpdate, {id, flag(c.set_industry), c.industry_id, flag(c.set_role), c.role_id,
                          c.difficulty, c.competency, c.text, c.key_points, c.follow_ups}));
}

bool delete_question(Db& db, const std::string& id) {
    return db.exec(kQuestionDelete, {id}).rows() > 0;
}

}  // namespace db
