// One request/response exchange with the web server, over FastCGI or CGI: reading the
// parameters and body into a Request, and writing a Response back.
#pragma once

#include <fcgiapp.h>

#include <string>
#include <string_view>

#include "fcgi/request.h"
#include "fcgi/response.h"

namespace fcgi {

class Exchange : public BodyReader {
  public:
    virtual const char* param(const char* name) const = 0;
    virtual char** envp() const = 0;  // NAME=value strings, null-terminated
    virtual void write(std::string_view data) = 0;
    // Writes the head, then the body unless head_only. The CGI front overrides it to serve an
    // X-Accel-Redirect itself (CGI servers ignore that header; nginx serves it for FastCGI).
    virtual void respond(const Response& res, bool head_only);

    // The request's id, set by read_request: nginx's $request_id, else Apache's UNIQUE_ID
    // (mod_unique_id), else one made here, so that every problem names one.
    std::string request_id;
};

// FastCGI: owns an FCGX_Request bound to the listening socket (cgimap's fcgi_request).
class FcgiExchange : public Exchange {
  public:
    explicit FcgiExchange(int listen_fd);
    ~FcgiExchange() override;
    FcgiExchange(const FcgiExchange&) = delete;
    FcgiExchange& operator=(const FcgiExchange&) = delete;

    // Waits for the next request. `idle`: no connection within the listening socket's receive
    // timeout (SO_RCVTIMEO, set by the worker so that it looks at its pending signals between
    // requests); `failed`: any other error.
    enum class Accept { request, idle, failed };
    Accept accept();
    void finish();

    const char* param(const char* name) const override;
    char** envp() const override { return req_.envp; }
    long read(char* buf, size_t n) override;
    void write(std::string_view data) override;

  private:
    mutable FCGX_Request req_;
};

// CGI: the process environment, stdin and stdout.
class CgiExchange : public Exchange {
  public:
    const char* param(const char* name) const override;
    char** envp() const override;
    long read(char* buf, size_t n) override;
    void write(std::string_view data) override;
};

// Builds the Request from the CGI parameters and headers (HTTP_* → lower-case names); the
// body stays in the exchange (req.body_reader). The path is DOCUMENT_URI (nginx); else, when
// SCRIPT_FILENAME is this very program (Apache ran the entry file a rewrite chose), the
// original URL path (REDIRECT_URL) below the entry's directory, or PATH_INFO when the entry was
// requested directly; else SCRIPT_NAME + PATH_INFO (a CGI server mapping the routes to us). A
// malformed CONTENT_LENGTH leaves req.content_length at -1 (answered 400 by serve_one, with the
// request id).
Request read_request(Exchange& ex);
// Reads the whole body into req.body, up to max_body bytes. Throws ApiError 400 for a body
// shorter than declared, 413 for a body over max_body.
void read_body(Request& req, size_t max_body);
// Writes the head and (unless HEAD) the body.
void write_response(Exchange& ex, const Response& res, bool head_only);

}  // namespace fcgi
