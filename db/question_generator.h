// What POST /questions/generate reads: the keywords of an industry and a role (by slug; the
// seed and admins write them, sql/migrations/0010_interviews.sql) and every text of the bank,
// so that no generated question repeats one. Read-only; the settings lists are shared by every
// user (no owner).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct KeywordSource {
    std::string id;
    std::string slug;
    std::string name;
    std::vector<std::string> keywords;
    std::string industry_slug;  // a role's industry; an industry's own slug
};

std::optional<KeywordSource> find_industry_keywords(Db& db, const std::string& slug);
std::optional<KeywordSource> find_role_keywords(Db& db, const std::string& slug);
// Every question text of the bank.
std::vector<std::string> bank_question_texts(Db& db);

}  // namespace db
