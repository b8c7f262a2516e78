// The interview bank (sql/migrations/0010_interviews.sql, seeded by 0011_interview_bank.sql):
// the industries and roles an interview is set in, and the questions it asks. Everyone reads
// it; admins write it. The API speaks slugs (`industry=software`), so the queries take and
// give slugs and the ids stay inside.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct Industry {
    std::string id, slug, name;
    std::string keywords;  // a JSON array of strings (to_jsonb of the text[])
    std::string created_at, updated_at, cursor_key;
};

struct BankRole {
    std::string id, slug, name;
    std::string industry;  // the industry's slug
    std::string keywords;  // a JSON array of strings
    std::string created_at, updated_at, cursor_key;
};

struct Question {
    std::string id, text;
    std::optional<std::string> industry, role;  // slugs; null: applies to all
    std::string difficulty, competency;
    std::string key_points;  // the jsonb array [{text, terms}], as stored
    std::string follow_ups;  // a JSON array of strings
    std::string created_at, updated_at, cursor_key;
};

// Keyset paging: newest first, after (before_key, before_id) when set.
struct BankPage {
    std::optional<std::string> before_key, before_id;
};
// Ids, resolved from the filter's slugs by the caller (an unknown slug is its 422).
struct QuestionFilter {
    std::optional<std::string> industry_id, role_id, difficulty, competency;
};

// Slug → id; nullopt when there is no such industry or role.
std::optional<std::string> industry_id_by_slug(Db& db, const std::string& slug);
struct RoleRef {
    std::string id, industry_id, industry;  // industry: its slug
};
std::optional<RoleRef> role_by_slug(Db& db, const std::string& slug);

// keywords: a text[] literal (db::array_literal); nullopt in changes leaves a field alone.
struct NewIndustry {
    std::string slug, name, keywords;
};
struct IndustryChanges {
    std::optional<std::string> slug, name, keywords;
};
std::vector<Industry> list_industries(Db& db, const BankPage& p, int limit);
std::optional<Industry> find_industry(Db& db, const std::string& id);
// Throws DbError 23505 (industries_slug_key) on a taken slug.
Industry insert_industry(Db& db, const NewIndustry& i);
std::optional<Industry> update_industry(Db& db, const std::string& id, const IndustryChanges& c);
// Throws DbError 23503 while roles, questions or interviews refer to it.
bool delete_industry(Db& db, const std::string& id);

struct NewRole {
    std::string industry_id, slug, name, keywords;
};
struct RoleChanges {
    std::optional<std::string> industry_id, slug, name, keywords;
};
std::vector<BankRole> list_roles(Db& db, const std::optional<std::string>& industry_id,
                                 const BankPage& p, int limit);
std::optional<BankRole> find_role(Db& db, const std::string& id);
// Throws DbError 23505 (roles_slug_key) on a taken slug.
BankRole insert_role(Db& db, const NewRole& r);
// Throws DbError 23503 when it moves a role that questions or interviews hold to another
// industry (their composite foreign keys).
std::optional<BankRole> update_role(Db& db, const std::string& id, const RoleChanges& c);
// Throws DbError 23503 while questions or interviews refer to it.
bool delete_role(Db& db, const std::string& id);

// key_points: JSON text (the handler validated it); follow_ups: a text[] literal.
struct NewQuestion {
    std::optional<std::string> industry_id, role_id;
    std::string difficulty, competency, text, key_points, follow_ups;
};
// set_industry / set_role: the patch names that field (its id, or nullopt to clear it).
struct QuestionChanges {
    bool set_industry = false, set_role = false;
    std::optional<std::string> industry_id, role_id;
    std::optional<std::string> difficulty, competency, text, key_points, follow_ups;
};
std::vector<Question> list_questions(Db& db, const QuestionFilter& f, const BankPage& p, int limit);
std::optional<Question> find_question(Db& db, const std::string& id);
// Throws DbError 23505 (questions_text_key) on a wording already in the bank, 23503
// (questions_role_fkey) when the role is not of the question's industry.
Question insert_question(Db& db, const NewQuestion& q);
std::optional<Question> update_question(Db& db, const std::string& id, const QuestionChanges& c);
// A past interview keeps its snapshot of the question (interview_turns.question).
bool delete_question(Db& db, const std::string& id);

}  // namespace db
