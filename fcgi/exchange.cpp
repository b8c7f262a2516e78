// FastCGI and CGI exchanges.
#include "fcgi/exchange.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/problem.h"
#include "core/query.h"

extern char** environ;

namespace fcgi {

FcgiExchange::FcgiExchange(int listen_fd) {
    FCGX_InitRequest(&req_, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
}

FcgiExchange::~FcgiExchange() {
    FCGX_Free(&req_, 1);
}

FcgiExchange::Accept FcgiExchange::accept() {
    int r = FCGX_Accept_r(&req_);
    if (r < 0) return r == -EAGAIN || r == -EWOULDBLOCK ? Accept::idle : Accept::failed;
    // A TCP connection inherits the listening socket's receive timeout (a unix one does not):
    // a slow upload must not time out between two reads.
    const timeval none{0, 0};
    if (setsockopt(req_.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none) != 0)
        return Accept::failed;
    return Accept::request;
}

void FcgiExchange::finish() {
    FCGX_Finish_r(&req_);
}

const char* FcgiExchange::param(const char* name) const {
    return FCGX_GetParam(name, req_.envp);
}

long FcgiExchange::read(char* buf, size_t n) {
    return FCGX_GetStr(buf, static_cast<int>(n), req_.in);
}

void FcgiExchange::write(std::string_view data) {
    FCGX_PutStr(data.data(), static_cast<int>(data.size()), req_.out);
}

const char* CgiExchange::param(const char* name) const {
    return std::getenv(name);
}

char** CgiExchange::envp() const {
    return environ;
}

long CgiExchange::read(char* buf, size_t n) {
    for (;;) {
        ssize_t r = ::read(STDIN_FILENO, buf, n);
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

void CgiExchange::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t w = ::write(STDOUT_FILENO, data.data(), data.size());
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        data.remove_prefix(static_cast<size_t>(w));
    }
}

namespace {

std::string param_or_empty(const Exchange& ex, const char* name) {
    const char* v = ex.param(name);
    return v ? v : "";
}

// HTTP_X_CSRF_TOKEN → x-csrf-token
std::string header_name(std::string_view cgi_name) {
    std::string out;
    for (char c : cgi_name.substr(5))
        out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void read_headers(const Exchange& ex, Request& req) {
    for (char** e = ex.envp(); e && *e; ++e) {
        std::string_view kv(*e);
        if (kv.rfind("HTTP_", 0) != 0) continue;
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        req.headers.emplace_back(header_name(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
}

}  // namespace

void read_body(Request& req, size_t max_body) {
    if (req.content_length == 0) return;
    if (static_cast<size_t>(req.content_length) > max_body)
        throw core::ApiError::too_large("body larger than " + std::to_string(max_body) + " bytes");
    req.body.resize(static_cast<size_t>(req.content_length));
    size_t got = 0;
    while (got < req.body.size())
        got += req.read_body_chunk(req.body.data() + got, req.body.size() - got);
}

Request read_request(Exchange& ex) {
    Request req;
    req.method = param_or_empty(ex, "REQUEST_METHOD");
    req.path = param_or_empty(ex, "DOCUMENT_URI");
    if (req.path.empty()) {  // plain CGI servers: SCRIPT_NAME + PATH_INFO
        req.path = param_or_empty(ex, "SCRIPT_NAME") + param_or_empty(ex, "PATH_INFO");
    }
    req.query_string = param_or_empty(ex, "QUERY_STRING");
    req.content_type = param_or_empty(ex, "CONTENT_TYPE");
    req.request_id = param_or_empty(ex, "REQUEST_ID");
    req.remote_addr = param_or_empty(ex, "REMOTE_ADDR");
    read_headers(ex, req);
    req.body_reader = &ex;
    const char* cl = ex.param("CONTENT_LENGTH");
    if (cl && *cl) {
        auto n = core::parse_decimal(cl);
        req.content_length = n ? *n : -1;  // serve_one answers 400 for -1
    }
    return req;
}

void Exchange::respond(const Response& res, bool head_only) {
    write(res.head());
    if (!head_only && !res.body.empty()) write(res.body);
}

void write_response(Exchange& ex, const Response& res, bool head_only) {
    ex.respond(res, head_only);
}

}  // namespace fcgi
