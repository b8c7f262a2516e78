// `rostrum <command>`: the one binary. api | migrate | check-config | user ... ; started by a
// CGI server (GATEWAY_INTERFACE set) it answers one request; started by mod_fcgid (a listening
// socket on fd 0) it serves that socket in one process.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "core/config.h"
#include "core/log.h"
#include "core/privileges.h"
#include "fcgi/pool.h"
#include "handlers/api.h"
#include "live/daemon.h"
#include "worker/worker.h"

namespace {

void usage() {
    std::cerr
        << "usage: rostrum <command>\n"
           "  api            run the FastCGI pool (nginx connects to api.socket)\n"
           "  api --fcgid    serve the FastCGI socket on fd 0, one process, no pool (mod_fcgid;\n"
           "                 chosen by itself when fd 0 is a listening socket)\n"
           "  migrate        apply database migrations\n"
           "  live           run the WebSocket daemon (nginx proxies /ws/ to live.socket)\n"
           "  worker [--drain]  run the job worker (--drain: process the queue, then exit)\n"
           "  transcribe FILE [--json]  transcript (and analysis) of one file, no database\n"
           "  check-config   print the effective configuration (secrets masked)\n"
           "  user create-admin EMAIL NAME   (password from ROSTRUM_PASSWORD or stdin)\n"
           "  user promote EMAIL | demote EMAIL | deactivate EMAIL | activate EMAIL\n"
           "Configuration comes from ROSTRUM_* environment variables; see check-config.\n";
}

// The daemons parse untrusted audio and bodies: never as root, and nothing they write is
// world-readable. Before any socket, file or database connection is opened.
void become_service_user(const core::Config& cfg) {
    umask(core::kDaemonUmask);
    if (core::drop_privileges(cfg.service_user))
        core::log_info("running as " + cfg.service_user + " (uid " + std::to_string(getuid()) +
                       ")");
}

bool started_by_cgi_server() {
    const char* gi = std::getenv("GATEWAY_INTERFACE");
    return gi && std::strncmp(gi, "CGI/", 4) == 0;
}

// mod_fcgid (and any FastCGI process manager of that kind) starts the program with its listening
// socket as fd 0 (FCGI_LISTENSOCK_FILENO) and manages the processes itself. A pipe, a terminal,
// /dev/null or CGI's connected socket is not listening.
bool started_by_fcgid() {
    int listening = 0;
    socklen_t len = sizeof listening;
    return getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
           listening != 0;
}

// `worker [--drain]`, `api [--fcgid]`; nothing else takes a flag here (other commands read
// their own arguments).
bool read_flags(const std::string& cmd, int argc, char** argv, bool& drain, bool& fcgid) {
    if (cmd != "worker" && cmd != "api") return true;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (cmd == "worker" && a == "--drain") {
            drain = true;
        } else if (cmd == "api" && a == "--fcgid") {
            fcgid = true;
        } else {
            std::cerr << "rostrum " << cmd << ": unknown argument " << a << "\n";
            return false;
        }
    }
    return true;
}

int run(int argc, char** argv) {
    std::string cmd = argc > 1 ? argv[1] : "";
    // Before the CGI check: mod_fcgid may pass a CGI environment to the process it starts.
    if ((cmd.empty() || cmd == "api") && started_by_fcgid()) {
        cmd = "fcgid";
    } else if (started_by_cgi_server()) {
        // mod_cgi and mod_cgid pass a query string without '=' as the program's arguments
        // (`GET /api/v1/x?migrate` runs `rostrum migrate`): under CGI the arguments are the
        // client's, never a command.
        cmd = "cgi";
        argc = 1;
    }
    if (cmd.empty() || cmd == "-h" || cmd == "--help" || cmd == "help") {
        usage();
        return cmd.empty() ? 2 : 0;
    }
    // Flags are checked before anything starts: a typo in a crontab line must not start a
    // daemon that never exits.
    bool drain = false, fcgid = false;
    if (!read_flags(cmd, argc, argv, drain, fcgid)) {
        usage();
        return 2;
    }
    if (cmd == "api" && fcgid) cmd = "fcgid";
    bool needs_secret = cmd == "api" || cmd == "cgi" || cmd == "fcgid" || cmd == "live";
    bool daemon = needs_secret || cmd == "worker";
    core::Config cfg = core::load_config(false);
    core::log_setup(cmd, core::parse_log_level(cfg.log_level));
    if (daemon) become_service_user(cfg);
    // Read (or generated) as the service user: the key file is then its own.
    if (needs_secret) core::require_jwt_secret(cfg);
    if (cmd == "check-config") core::load_jwt_secret(cfg, false);
    if (cmd == "api") return fcgi::run_pool(cfg, handlers::api_app());
    if (cmd == "cgi") return fcgi::run_cgi(cfg, handlers::api_app());
    if (cmd == "fcgid") return fcgi::run_fcgid(cfg, handlers::api_app());
    if (cmd == "live") return live::run_live_daemon(cfg);
    if (cmd == "worker") return worker::run_worker_daemon(cfg, drain);
    if (cmd == "transcribe") return cli::transcribe_command(cfg, argc - 2, argv + 2);
    if (cmd == "migrate") return cli::migrate_command(cfg);
    if (cmd == "check-config") return cli::check_config_command(cfg);
    if (cmd == "user") return cli::user_command(cfg, argc - 2, argv + 2);
    usage();
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const core::ConfigError& e) {
        std::cerr << "rostrum: configuration: " << e.what() << "\n";
        return 78;  // EX_CONFIG
    } catch (const std::exception& e) {
        std::cerr << "rostrum: " << e.what() << "\n";
        return 1;
    }
}
