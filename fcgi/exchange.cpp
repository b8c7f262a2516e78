// FastCGI and CGI exchanges.
#include "fcgi/exchange.h"

#include <limits.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

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

// The real path of this program (cached: it does not change while we run).
const std::string& own_path() {
    static const std::string path = [] {
        char buf[PATH_MAX];
        return ::realpath("/proc/self/exe", buf) ? std::string(buf) : std::string();
    }();
    return path;
}

// True when the CGI server ran this program as the file a URL named (Apache's SCRIPT_FILENAME):
// SCRIPT_NAME is then the entry's own URL, not part of the route.
bool runs_as_entry_file(const Exchange& ex) {
    const char* file = ex.param("SCRIPT_FILENAME");
    if (!file || !*file || own_path().empty()) return false;
    char buf[PATH_MAX];
    return ::realpath(file, buf) && own_path() == buf;
}

std::string cgi_path(const Exchange& ex) {
    std::string script = param_or_empty(ex, "SCRIPT_NAME");
    std::string info = param_or_empty(ex, "PATH_INFO");
    if (!runs_as_entry_file(ex))
        return script + info;  // routes mapped to us: SCRIPT_NAME + PATH_INFO
    // A rewrite chose the entry (deploy/apache/htaccess): the URL as the client sent it,
    // decoded and normalised by Apache once, as nginx's $document_uri; an install in a
    // subdirectory of the site serves its routes below that directory.
    std::string original = param_or_empty(ex, "REDIRECT_URL");
    if (original.empty()) return info.empty() ? "/" : info;
    std::string base = script.substr(0, script.rfind('/') + 1);  // "/" or "/sub/"
    if (base.size() > 1 && original.rfind(base, 0) == 0) return original.substr(base.size() - 1);
    return original;
}

// 128 random bits in hex, nginx's $request_id format.
std::string new_request_id() {
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return "";  // no id rather than a predictable one
        got += static_cast<size_t>(n);
    }
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
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
    if (req.path.empty()) req.path = cgi_path(ex);
    req.query_string = param_or_empty(ex, "QUERY_STRING");
    req.content_type = param_or_empty(ex, "CONTENT_TYPE");
    req.request_id = param_or_empty(ex, "REQUEST_ID");
    if (req.request_id.empty()) req.request_id = param_or_empty(ex, "UNIQUE_ID");
    if (req.request_id.empty()) req.request_id = new_request_id();
    ex.request_id = req.request_id;
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
