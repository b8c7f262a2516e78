// Listener: a dedicated connection that LISTENs on channels and waits for notifications.
// Reconnects (and LISTENs again) by itself; a caller that must not miss anything re-reads
// its table after reconnected() turns true (NOTIFY does not replay what was sent meanwhile).
#pragma once

#include <string>
#include <vector>

#include "db/pg.h"

namespace db {

struct Notification {
    std::string channel;
    std::string payload;
};

class Listener {
  public:
    Listener(DbSettings settings, std::vector<std::string> channels);
    // Waits up to timeout_ms for notifications; returns what arrived (maybe nothing). Never
    // throws for a lost connection: it reconnects on the next call. After a (re)connection
    // it returns at once, empty, until reconnected() has been read.
    std::vector<Notification> wait(int timeout_ms);
    // True once after each (re)connection: the caller should catch up from its table.
    bool reconnected();

  private:
    void connect();
    DbSettings settings_;
    std::vector<std::string> channels_;
    PgConnPtr conn_;
    bool reconnected_ = false;
};

}  // namespace db
