// The libpq connection: connect, prepare, execute, map failures to DbError.
#include "db/pg.h"

#include <poll.h>

#include <cstdlib>
#include <cstring>

namespace db {

std::string like_contains(const std::string& s) {
    std::string out = "%";
    for (char c : s) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

std::string array_literal(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : item) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}
namespace {

std::string field(const PGresult* r, int code) {
    const char* v = r ? PQresultErrorField(r, code) : nullptr;
    return v ? v : "";
}

bool connection_error(const std::string& sqlstate) {
    // 08*: connection exceptions; 57P01-3: the server is shutting down, crashed or starting.
    return sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
           sqlstate == "57P03";
}

}  // namespace

DbError::DbError(std::string message, std::string sqlstate_, std::string constraint_,
                 bool connection_lost_)
    : std::runtime_error(std::move(message)),
      sqlstate(std::move(sqlstate_)),
      constraint(std::move(constraint_)),
      connection_lost(connection_lost_) {}

std::string Result::str(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

std::string_view Result::view(int row, int col) const {
    return std::string_view(PQgetvalue(r_.get(), row, col),
                            static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t Result::i64(int row, int col) const {
    return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

double Result::f64(int row, int col) const {
    return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

bool Result::boolean(int row, int col) const {
    return PQgetvalue(r_.get(), row, col)[0] == 't';
}

// Readers read a row's columns in the same order row after row, with the same literals: the
// cache entry after the last one found is tried first (one pointer comparison per column), then
// the others by pointer, then by text. A name seen for the first time is looked up among the
// result's own names from where the previous one was found (statements list their columns in
// about the order readers read them). Not PQfnumber: it copies and case-folds the name and
// compares it with every column, which for a 22-column session cost more than the rest of
// reading the row.
int Result::find_column(const char* name) const {
    // A cached pointer is only a hint: a hit is confirmed against the result's own name
    // (PQfname, owned by the result), so a caller's temporary string reused at the same address
    // can never read another column.
    auto same = [&](size_t k) {
        return std::strcmp(PQfname(r_.get(), columns_[k].second), name) == 0;
    };
    if (probe_ < columns_.size() && columns_[probe_].first == name && same(probe_))
        return hit(probe_);
    for (size_t k = 0; k < columns_.size(); ++k)
        if (columns_[k].first == name && same(k)) return hit(k);
    for (size_t k = 0; k < columns_.size(); ++k)
        if (same(k)) return hit(k);
    int n = PQnfields(r_.get());
    for (int step = 0; step < n; ++step) {
        int c = (next_field_ + step) % n;
        if (std::strcmp(PQfname(r_.get(), c), name) != 0) continue;
        next_field_ = c + 1;
        columns_.emplace_back(name, c);
        return hit(columns_.size() - 1);
    }
    return -1;  // not cached: an absent name is rare (has_column) and must not pin a pointer
}

int Result::hit(size_t k) const {
    probe_ = k + 1 == columns_.size() ? 0 : k + 1;
    return columns_[k].second;
}

int Result::scalar_column() const {
    if (PQnfields(r_.get()) != 1 || rows() < 1)
        throw std::logic_error("a scalar read of a result that is not one value");
    return 0;
}

std::string Result::scalar_str() const {
    return str(0, scalar_column());
}

int64_t Result::scalar_i64() const {
    return i64(0, scalar_column());
}

bool Result::scalar_bool() const {
    return boolean(0, scalar_column());
}

std::vector<std::optional<std::string>> Result::single_column() const {
    if (PQnfields(r_.get()) != 1) throw std::logic_error("not a one-column result");
    std::vector<std::optional<std::string>> out;
    out.reserve(rows());
    for (int i = 0; i < rows(); ++i)
        out.push_back(is_null(i, 0) ? std::nullopt : std::optional<std::string>(str(i, 0)));
    return out;
}

int Result::column(const char* name) const {
    int i = find_column(name);
    if (i < 0) throw std::logic_error(std::string("no result column named ") + name);
    return i;
}

std::optional<std::string> Row::opt(const char* col) const {
    if (is_null(col)) return std::nullopt;
    return str(col);
}

std::optional<double> Row::opt_f64(const char* col) const {
    if (is_null(col)) return std::nullopt;
    return f64(col);
}

int64_t Result::affected() const {
    return std::strtoll(PQcmdTuples(r_.get()), nullptr, 10);
}

void Db::ensure_connected() {
    if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return;
    conn_.reset();
    prepared_.clear();
    tx_depth_ = 0;
    std::string timeout = std::to_string(s_.connect_timeout_s);
    // Session settings ride on the startup packet: no extra round trip per connection.
    std::string options = "-c statement_timeout=" + std::to_string(s_.statement_timeout_ms) +
                          " -c idle_in_transaction_session_timeout=60000"
                          " -c lock_timeout=" +
                          std::to_string(s_.statement_timeout_ms);
    // libpq applies keywords in order, so a `user` after the expanded dbname wins over the
    // connection string's.
    const char* keys[] = {"dbname",
                          "connect_timeout",
                          "application_name",
                          "options",
                          s_.user.empty() ? nullptr : "user",
                          nullptr};
    const char* vals[] = {s_.conninfo.c_str(), timeout.c_str(), s_.application_name.c_str(),
                          options.c_str(),     s_.user.c_str(), nullptr};
    PgConnPtr c(PQconnectdbParams(keys, vals, /*expand_dbname=*/1));
    if (!c || PQstatus(c.get()) != CONNECTION_OK) {
        std::string msg = c ? PQerrorMessage(c.get()) : "out of memory";
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        throw DbError("cannot connect to PostgreSQL: " + msg, "08001", "", true);
    }
    // Server notices (e.g. "relation already exists, skipping") are not errors; libpq would
    // print them to stderr by default.
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    conn_ = std::move(c);
}

Result Db::check(PgResultPtr r, const char* what) {
    ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Result(std::move(r));
    std::string sqlstate = field(r.get(), PG_DIAG_SQLSTATE);
    bool lost = PQstatus(conn_.get()) != CONNECTION_OK || connection_error(sqlstate);
    std::string msg = r ? field(r.get(), PG_DIAG_MESSAGE_PRIMARY) : "";
    if (msg.empty()) msg = PQerrorMessage(conn_.get());
    if (lost) {
        conn_.reset();
        prepared_.clear();
        tx_depth_ = 0;
    }
    throw DbError(std::string(what) + ": " + msg, sqlstate.empty() && lost ? "08006" : sqlstate,
                  field(r.get(), PG_DIAG_CONSTRAINT_NAME), lost);
}

// `sent` tells the caller whether the statement itself went out (a failed PQprepare sent
// nothing that could have changed data).
Result Db::exec_once(const Statement& st, const std::vector<Param>& params, bool& sent) {
    sent = false;
    ensure_connected();
    if (!prepared_.count(st.name)) {
        check(PgResultPtr(PQprepare(conn_.get(), st.name, st.sql, 0, nullptr)), st.name);
        prepared_.insert(st.name);
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    sent = true;
    return check(PgResultPtr(PQexecPrepared(conn_.get(), st.name, static_cast<int>(values.size()),
                                            values.data(), nullptr, nullptr, 0)),
                 st.name);
}

// An idle session has nothing to say: a readable socket means the server wrote its goodbye
// (FATAL 57P01 on a restart or pg_terminate_backend) or closed it. Checked before sending, so
// that replacing the connection then loses nothing.
bool Db::found_dead() {
    if (!conn_) return false;  // ensure_connected makes one
    if (PQstatus(conn_.get()) != CONNECTION_OK) return true;
    pollfd p{PQsocket(conn_.get()), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;  // readable, hung up, or poll failed: do not trust it
}

Result Db::exec(const Statement& st, const std::vector<Param>& params) {
    // Inside a transaction nothing is retried or replaced: the earlier statements died with
    // the session, and a fresh one would run the rest outside the transaction.
    const bool outside_tx = tx_depth_ == 0;
    if (outside_tx && found_dead()) disconnect();
    bool sent = false;
    try {
        return exec_once(st, params, sent);
    } catch (const DbError& e) {
        // A statement that went out and lost its reply may have run: only an idempotent one is
        // sent again (an INSERT or UPDATE would be applied twice).
        if (!e.connection_lost || !outside_tx || (sent && !st.idempotent)) throw;
    }
    return exec_once(st, params, sent);
}

Result Db::exec_script(const std::string& sql) {
    ensure_connected();
    return check(PgResultPtr(PQexec(conn_.get(), sql.c_str())), "script");
}

bool Db::ping() {
    static constexpr Statement kPing{"ping", "SELECT 1", kIdempotent};
    try {
        exec(kPing);
        return true;
    } catch (const DbError&) {
        return false;
    }
}

void Db::disconnect() {
    conn_.reset();
    prepared_.clear();
    tx_depth_ = 0;
}

Tx::Tx(Db& db) : db_(db) {
    static constexpr Statement kBegin{"tx_begin", "BEGIN", kIdempotent};
    db_.exec(kBegin);  // may reconnect: nothing to lose before BEGIN
    ++db_.tx_depth_;
}

void Tx::commit() {
    static constexpr Statement kCommit{"tx_commit", "COMMIT"};
    done_ = true;
    // tx_depth_ stays set while COMMIT runs: a COMMIT lost with the connection must fail (the
    // outcome is unknown), never be retried on a fresh session.
    db_.exec(kCommit);
    db_.tx_depth_ = 0;
}

Tx::~Tx() {
    if (done_) return;
    db_.tx_depth_ = 0;
    try {
        if (db_.conn_) PgResultPtr(PQexec(db_.conn_.get(), "ROLLBACK"));
    } catch (...) {
    }
}

}  // namespace db
