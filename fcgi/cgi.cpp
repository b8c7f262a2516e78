// CGI mode: the shared-host fallback. One request from the environment and stdin, one
// response on stdout, then exit.
#include <unistd.h>

#include "core/passwords.h"
#include "core/tokens.h"
#include "db/pg.h"
#include "fcgi/exchange.h"
#include "fcgi/pool.h"
#include "fcgi/serve.h"
#include "handlers/routes.h"

namespace fcgi {

int run_cgi(const core::Config& cfg) {
    core::init_crypto();
    db::Db db(db_settings(cfg, "cgi"));
    core::TokenSettings tokens = token_settings(cfg);
    Router router(handlers::route_table());
    Ctx ctx{db, cfg, tokens, nullptr};
    CgiExchange ex;
    serve_one(ex, ctx, router, nullptr, 0);
    return 0;
}

}  // namespace fcgi
