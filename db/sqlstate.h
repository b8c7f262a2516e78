// SQLSTATE (+ constraint name) → the ApiError a client sees, as PostgREST's mapSQLtoHTTP.
#pragma once

#include "core/problem.h"
#include "db/pg.h"

namespace db {

core::ApiError map_db_error(const DbError& e);

}  // namespace db
