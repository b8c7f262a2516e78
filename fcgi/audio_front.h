// Serving X-Accel-Redirect without nginx: under a CGI server (mod_cgid) or mod_fcgid nothing
// else reads that header, so the application streams the file itself, as nginx's internal
// /_audio/ location would (the same type, headers and single-range support), after the handler
// checked ownership.
#pragma once

#include <string>

#include "fcgi/exchange.h"

namespace fcgi {

// Wraps the exchange of a request (CGI's stdin/stdout, or a FastCGI request): everything passes
// through, except a 200 response carrying X-Accel-Redirect: /_audio/<name>, answered with the
// file from audio_dir (200, or 206 for a Range, or 416).
class AudioFront final : public Exchange {
  public:
    AudioFront(Exchange& inner, std::string audio_dir)
        : inner_(inner), audio_dir_(std::move(audio_dir)) {}

    const char* param(const char* name) const override { return inner_.param(name); }
    char** envp() const override { return inner_.envp(); }
    long read(char* buf, size_t n) override { return inner_.read(buf, n); }
    void write(std::string_view data) override { inner_.write(data); }
    void respond(const Response& res, bool head_only) override;

  private:
    void problem(const core::ApiError& e);
    void serve_file(const Response& res, const std::string& name, bool head_only);
    void copy(int fd, int64_t first, int64_t last);

    Exchange& inner_;
    std::string audio_dir_;
};

}  // namespace fcgi
