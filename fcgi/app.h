// What the transport serves, handed to it by the entry point (cli/main.cpp): the route table and
// the few things the transport needs from the layers above it, which it may not include (the
// handlers, the database, authentication: tests/unit/layers_test.cpp keeps it that way).
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <span>

#include "core/problem.h"
#include "fcgi/router.h"

namespace core {
struct Config;
}

namespace fcgi {

// What one serving process holds for its whole life (its database connection), opened by the
// application after fork; every request it serves gets a Ctx on it.
class Process {
  public:
    virtual ~Process() = default;
    virtual Ctx& ctx() = 0;
};

struct App {
    std::span<const Route> routes;
    // Opens a serving process's resources. `role` names its connection ("api", "cgi"); `board`
    // is null in CGI mode. May throw: the process then exits and the master logs it.
    std::unique_ptr<Process> (*open)(const core::Config& cfg, const char* role,
                                     const Scoreboard* board);
    // For kAuth routes: fills req.caller, or throws core::ApiError 401/403.
    void (*authenticate)(Request& req, Ctx& ctx);
    // A failure from below the handlers that is not a core::ApiError (a database error): the
    // problem to answer, after logging it. nullopt for an exception it does not know, which is
    // a bug (500, and the worker exits).
    std::optional<core::ApiError> (*map_error)(const std::exception& e, const Request& req);
};

}  // namespace fcgi
