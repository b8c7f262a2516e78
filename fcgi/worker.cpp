// The worker's accept loop.
#include "fcgi/worker.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/tokens.h"
#include "db/pg.h"
#include "fcgi/exchange.h"
#include "fcgi/serve.h"
#include "handlers/routes.h"

namespace fcgi {
namespace {

// Set by the signal handler; the only mutable global of a worker besides its connection.
volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) {
    g_stop = 1;
}

// SIGTERM (drain, reload, master death) sets g_stop. No SA_RESTART: a blocked accept()
// returns at once (FCGI_FAIL_ACCEPT_ON_INTR) and the loop ends.
void install_worker_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
}

}  // namespace

int run_worker(const core::Config& cfg, int listen_fd, Scoreboard* board, int slot,
               int master_pid) {
    install_worker_signals();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master_pid) return 0;  // the master died between fork and prctl

    db::Db db(db_settings(cfg, "api"));
    core::TokenSettings tokens = token_settings(cfg);
    Router router(handlers::route_table());
    Ctx ctx{db, cfg, tokens, board};
    FcgiExchange ex(listen_fd);
    uint64_t served = 0;
    int failed_accepts = 0;
    while (!g_stop && served < static_cast<uint64_t>(cfg.api_max_requests)) {
        if (!ex.accept()) {
            // Interrupted by a signal (g_stop decides) or a broken connection; a socket that
            // keeps failing means something is wrong with us: exit and let the master decide.
            if (!g_stop && ++failed_accepts > 1000) return 71;
            continue;
        }
        failed_accepts = 0;
        ServeResult r = serve_one(ex, ctx, router, board, slot);
        ex.finish();
        ++served;
        if (r.fatal) return 70;  // EX_SOFTWARE: the master logs and replaces us
    }
    return 0;
}

}  // namespace fcgi
