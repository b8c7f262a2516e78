// LISTEN/NOTIFY on a dedicated connection.
#include "db/listen.h"

#include <poll.h>

#include <thread>

namespace db {

Listener::Listener(DbSettings settings, std::vector<std::string> channels)
    : settings_(std::move(settings)), channels_(std::move(channels)) {}

void Listener::connect() {
    std::string timeout = std::to_string(settings_.connect_timeout_s);
    // As in Db: a `user` after the expanded dbname overrides the connection string's.
    const char* keys[] = {"dbname", "connect_timeout", "application_name",
                          settings_.user.empty() ? nullptr : "user", nullptr};
    const char* vals[] = {settings_.conninfo.c_str(), timeout.c_str(),
                          settings_.application_name.c_str(), settings_.user.c_str(), nullptr};
    PgConnPtr c(PQconnectdbParams(keys, vals, 1));
    if (!c || PQstatus(c.get()) != CONNECTION_OK) return;
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    for (const std::string& ch : channels_) {
        // Channel names are our own constants, never input; quoted as identifiers anyway.
        std::unique_ptr<char, core::CDeleter<PQfreemem>> ident(
            PQescapeIdentifier(c.get(), ch.c_str(), ch.size()));
        std::string sql = std::string("LISTEN ") + (ident ? ident.get() : "");
        PgResultPtr r(PQexec(c.get(), sql.c_str()));
        if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return;
    }
    conn_ = std::move(c);
    reconnected_ = true;
}

std::vector<Notification> Listener::wait(int timeout_ms) {
    std::vector<Notification> out;
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
        conn_.reset();
        connect();
        if (!conn_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 1000)));
            return out;
        }
    }
    // Just (re)connected: the caller reads its table first (reconnected()), or what happened
    // before the LISTEN would wait for the next notification or the whole timeout.
    if (reconnected_) return out;
    struct pollfd p {
        PQsocket(conn_.get()), POLLIN, 0
    };
    if (poll(&p, 1, timeout_ms) > 0 && !PQconsumeInput(conn_.get())) {
        conn_.reset();  // the server went away; reconnect next time
        return out;
    }
    while (std::unique_ptr<PGnotify, core::CDeleter<PQfreemem>> n{PQnotifies(conn_.get())})
        out.push_back({n->relname, n->extra});
    return out;
}

bool Listener::reconnected() {
    bool r = reconnected_;
    reconnected_ = false;
    return r;
}

}  // namespace db
