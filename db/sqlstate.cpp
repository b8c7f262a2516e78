// The SQLSTATE table.
#include "db/sqlstate.h"

#include <string_view>

namespace db {
namespace {

// Which request field a named constraint is about.
struct ConstraintField {
    std::string_view constraint;
    const char* field;
    const char* message;
};
constexpr ConstraintField kConstraintFields[] = {
    {"users_email_key", "email", "an account with this email already exists"},
};

// Which request field a foreign key names (a referenced row gone between check and insert).
constexpr ConstraintField kForeignKeyFields[] = {
    {"sessions_project_fk", "project_id", "must be a project you can see"},
};

}  // namespace

core::ApiError map_db_error(const DbError& e) {
    const std::string& s = e.sqlstate;
    if (e.connection_lost || s.rfind("08", 0) == 0 || s == "57P01" || s == "57P02" ||
        s == "57P03" || s == "53300")
        return core::ApiError::unavailable("the database is unavailable; try again shortly");
    if (s == "57014" || s == "55P03")  // statement_timeout, lock_timeout
        return core::ApiError::unavailable("the database took too long; try again shortly");
    if (s == "40001" || s == "40P01")
        return core::ApiError::unavailable("a concurrent update conflicted; try again");
    if (s == "23505") {
        for (const auto& cf : kConstraintFields)
            if (cf.constraint == e.constraint)
                return core::ApiError::conflict(cf.field, cf.message);
        return core::ApiError::conflict("", "conflicts with an existing resource");
    }
    if (s == "23503") {
        for (const auto& cf : kForeignKeyFields)
            if (cf.constraint == e.constraint)
                return core::ApiError::unprocessable(cf.field, cf.message);
        return core::ApiError::not_found("a referenced resource does not exist");
    }
    if (s == "23514" || s == "22P02" || s == "22001" || s == "22003" || s == "22007" ||
        s == "22008")
        return core::ApiError::unprocessable("", "a value is out of range or malformed");
    return core::ApiError(500, core::status_text(500), "internal database error");
}

}  // namespace db
