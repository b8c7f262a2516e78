// Db: the one libpq connection of a process, with lazy connect, reconnect after PostgreSQL
// restarts, statements prepared by name on first use, and DbError carrying the SQLSTATE.
// Only db/ includes <libpq-fe.h>.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/c_handles.h"

namespace db {

using PgConnPtr = std::unique_ptr<PGconn, core::CDeleter<PQfinish>>;
using PgResultPtr = std::unique_ptr<PGresult, core::CDeleter<PQclear>>;

// A failed statement. connection_lost is set when the server went away (restart, crash).
class DbError : public std::runtime_error {
  public:
    DbError(std::string message, std::string sqlstate, std::string constraint,
            bool connection_lost);
    std::string sqlstate;    // PG_DIAG_SQLSTATE, e.g. "23505"
    std::string constraint;  // PG_DIAG_CONSTRAINT_NAME, e.g. "users_email_key"
    bool connection_lost;
};

// A named SQL statement; the name is the prepared statement's name (unique per process).
// `idempotent` marks a statement that may run twice with the effect of once (a read, an upsert
// to a fixed value): only such a statement is sent again when the connection dies after it was
// sent, because its reply (and so whether it ran) is lost. Default: not.
struct Statement {
    const char* name;
    const char* sql;
    bool idempotent = false;
};

// For the statements that may be re-sent: `constexpr Statement kFind{..., ..., kIdempotent};`
inline constexpr bool kIdempotent = true;

// A parameter value in text format; nullopt is SQL NULL.
using Param = std::optional<std::string>;

// A PostgreSQL array literal of the items, each quoted: the text of a uuid[] or text[]
// parameter ({"a","b \"c\""}). Any text is safe in it.
std::string array_literal(const std::vector<std::string>& items);

// `s` as a LIKE pattern that matches it literally anywhere (%, _ and \ escaped, % around it):
// the parameter of every "name contains" filter, `col ILIKE $n ESCAPE '\'`.
std::string like_contains(const std::string& s);

// A statement's result. Values are read by column NAME through Row, or, for a statement that
// returns one value (a count, an EXISTS), through scalar_*: no caller indexes columns by position.
class Result {
  public:
    explicit Result(PgResultPtr r) : r_(std::move(r)) {}
    int rows() const { return PQntuples(r_.get()); }
    // The value of a one-column result's first row; std::logic_error when the statement
    // returns more than one column or no row (a bug in the statement, not in the input).
    std::string scalar_str() const;
    int64_t scalar_i64() const;
    bool scalar_bool() const;
    // Every row's value of a one-column result (nullopt for NULL).
    std::vector<std::optional<std::string>> single_column() const;
    // Rows changed by an UPDATE/DELETE/INSERT.
    int64_t affected() const;
    // The index of the result column named `name` (its SQL alias, exactly: no case folding;
    // a statement returns each name once):
    // looked up once per name and result, later rows reuse it (find_column). Throws
    // std::logic_error for a name the statement does not return: a typo in C++ or SQL is a bug,
    // found by the first test that reads it.
    int column(const char* name) const;
    bool has_column(const char* name) const { return find_column(name) >= 0; }

  private:
    friend class Row;
    bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
    std::string str(int row, int col) const;
    std::string_view view(int row, int col) const;
    int64_t i64(int row, int col) const;
    double f64(int row, int col) const;
    bool boolean(int row, int col) const;     // 't' / 'f'
    int scalar_column() const;                // 0, after checking the shape
    int find_column(const char* name) const;  // -1 when absent; cached either way
    int hit(size_t k) const;                  // columns_[k]'s index; the next probe follows it
    PgResultPtr r_;
    mutable std::vector<std::pair<const char*, int>> columns_;  // name → index, as looked up
    mutable size_t probe_ = 0;    // the cache entry tried first (after the last one found)
    mutable int next_field_ = 0;  // where a new name's search among the result's columns starts
};

// One row of a result, read by column NAME. Users and sessions read their rows only through
// this: a statement's column order can change without a reader noticing it.
class Row {
  public:
    Row(const Result& r, int row) : r_(r), row_(row) {}
    bool is_null(const char* col) const { return r_.is_null(row_, r_.column(col)); }
    std::string str(const char* col) const { return r_.str(row_, r_.column(col)); }
    std::optional<std::string> opt(const char* col) const;  // SQL NULL → nullopt
    int64_t i64(const char* col) const { return r_.i64(row_, r_.column(col)); }
    double f64(const char* col) const { return r_.f64(row_, r_.column(col)); }
    std::optional<double> opt_f64(const char* col) const;
    bool boolean(const char* col) const { return r_.boolean(row_, r_.column(col)); }

  private:
    const Result& r_;
    int row_;
};

struct DbSettings {
    std::string conninfo;          // keywords or URI
    std::string application_name;  // shows in pg_stat_activity (api-<pid>, worker-<pid>)
    int connect_timeout_s = 3;
    int statement_timeout_ms = 5000;
    std::string user = {};  // when set, overrides the conninfo's user (the application role)
};

class Db {
  public:
    explicit Db(DbSettings s) : s_(std::move(s)) {}
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // Runs a prepared statement. Outside a transaction, a connection found dead before the
    // statement is sent (the server restarted or ended the session) is replaced first, and a
    // statement marked idempotent whose reply was lost is retried once on a fresh connection.
    // Any other statement lost in flight throws DbError{connection_lost}: it may have run.
    Result exec(const Statement& st, const std::vector<Param>& params = {});
    // Runs SQL without parameters (BEGIN, COMMIT, migration files). Never user input.
    Result exec_script(const std::string& sql);
    // True if a trivial query succeeds (reconnecting if needed).
    bool ping();
    bool in_transaction() const { return tx_depth_ > 0; }
    void disconnect();

  private:
    friend class Tx;
    void ensure_connected();
    bool found_dead();
    Result check(PgResultPtr r, const char* what);
    Result exec_once(const Statement& st, const std::vector<Param>& params, bool& sent);

    DbSettings s_;
    PgConnPtr conn_;
    std::set<std::string> prepared_;
    int tx_depth_ = 0;
};

// BEGIN in the constructor, COMMIT in commit(), ROLLBACK in the destructor unless committed.
// The destructor never throws.
class Tx {
  public:
    explicit Tx(Db& db);
    ~Tx();
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    void commit();

  private:
    Db& db_;
    bool done_ = false;
};

}  // namespace db
