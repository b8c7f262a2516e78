// libFuzzer target for the request headers issue 9 taught the front to read: Host against
// site.hosts, Origin / Sec-Fetch-Site on cookie-setting routes, Range in CGI mode, and the log
// escaping every field goes through. Input: four fields separated by NUL bytes.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"  // valid_utf8
#include "core/log.h"
#include "core/problem.h"
#include "fcgi/range.h"
#include "fcgi/site.h"

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz_headers invariant broken: %s\n", what);
    std::abort();
}

const std::vector<std::string> kHosts = {"127.0.0.1", "localhost", "[::1]", "app.example.com:8443"};

std::vector<std::string_view> fields(std::string_view in) {
    std::vector<std::string_view> out;
    while (out.size() < 3) {
        size_t nul = in.find('\0');
        if (nul == std::string_view::npos) break;
        out.push_back(in.substr(0, nul));
        in.remove_prefix(nul + 1);
    }
    out.push_back(in);
    while (out.size() < 4) out.emplace_back();
    return out;
}

void check_host(std::string_view host) {
    bool allowed = fcgi::host_allowed(host, kHosts);
    // Nothing outside the list's names gets in, whatever the case or port.
    if (allowed) {
        std::string lower;
        for (char c : host) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool named = lower.rfind("127.0.0.1", 0) == 0 || lower.rfind("localhost", 0) == 0 ||
                     lower.rfind("[::1]", 0) == 0 || lower == "app.example.com:8443";
        require(named, "host_allowed admitted a host outside site.hosts");
    }
}

void check_same_site(std::string_view origin, std::string_view fetch_site) {
    fcgi::Request req;
    req.method = "POST";
    if (!origin.empty()) req.headers.emplace_back("origin", std::string(origin));
    if (!fetch_site.empty()) req.headers.emplace_back("sec-fetch-site", std::string(fetch_site));
    try {
        fcgi::require_same_site(req, kHosts);
        require(fetch_site != "cross-site", "a cross-site request passed");
    } catch (const core::ApiError& e) {
        require(e.status == 403, "require_same_site refused with a status other than 403");
    }
}

void check_range(std::string_view header, int64_t size) {
    std::string h(header);
    auto r = fcgi::parse_range(h.c_str(), size);
    if (!r || r->first > r->last) return;  // the whole file, or 416
    require(r->first >= 0 && r->last < size, "a satisfiable range outside the file");
}

void check_log_escape(std::string_view text) {
    std::string out = core::escape_log_text(text);
    require(core::valid_utf8(out), "escaped log text is not UTF-8");
    for (unsigned char c : out) require(c >= 0x20 && c != 0x7f, "a control byte survived escaping");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto f = fields(in);
    check_host(f[0]);
    check_same_site(f[1], f[2]);
    for (int64_t file_size : {int64_t{0}, int64_t{1}, int64_t{1000}, INT64_MAX})
        check_range(f[3], file_size);
    check_log_escape(in);
    return 0;
}
