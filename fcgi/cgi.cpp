// CGI mode: the shared-host fallback (mod_cgid). One request from the environment and stdin,
// one response on stdout, then exit.
#include "core/config.h"
#include "core/passwords.h"
#include "fcgi/audio_front.h"
#include "fcgi/exchange.h"
#include "fcgi/pool.h"
#include "fcgi/serve.h"

namespace fcgi {

int run_cgi(const core::Config& cfg, const App& app) {
    core::init_crypto();
    std::unique_ptr<Process> process = app.open(cfg, "cgi", nullptr);
    Router router(app.routes);
    CgiExchange cgi;
    // Without it a CGI server sent the empty body of the redirect.
    AudioFront ex(cgi, core::audio_dir(cfg));
    serve_one(ex, process->ctx(), app, router, nullptr, 0);
    return 0;
}

}  // namespace fcgi
