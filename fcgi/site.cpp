// The Host allowlist and the same-site rule.
#include "fcgi/site.h"

#include <cctype>

#include "core/problem.h"
#include "core/query.h"

namespace fcgi {
namespace {

// "name:port" / "[v6]:port" / "name" → {name, port}; false when it is not that shape.
bool split_host(std::string_view h, std::string_view& name, std::string_view& port) {
    size_t colon = std::string_view::npos;
    if (!h.empty() && h.front() == '[') {
        size_t close = h.find(']');
        if (close == std::string_view::npos) return false;
        if (close + 1 < h.size()) {
            if (h[close + 1] != ':') return false;
            colon = close + 1;
        }
    } else {
        colon = h.find(':');
        if (colon != std::string_view::npos && h.find(':', colon + 1) != std::string_view::npos)
            return false;  // a bare IPv6 address or junk
    }
    name = h.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view() : h.substr(colon + 1);
    if (colon != std::string_view::npos &&
        (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos))
        return false;
    return !name.empty();
}

}  // namespace

bool host_allowed(std::string_view host, const std::vector<std::string>& allowed) {
    std::string_view name, port;
    if (!split_host(host, name, port)) return false;
    for (const auto& entry : allowed) {
        std::string_view ename, eport;
        if (!split_host(entry, ename, eport)) continue;
        if (core::equals_ascii_ci(name, ename) && (eport.empty() || eport == port)) return true;
    }
    return false;
}

void require_allowed_host(const Request& req, const std::vector<std::string>& allowed) {
    auto host = req.header("host");
    if (host && !host_allowed(*host, allowed))
        throw core::ApiError(421, core::status_text(421),
                             "this server does not serve that host name (see site.hosts)", {},
                             "/problems/misdirected");
}

void require_same_site(const Request& req, const std::vector<std::string>& allowed) {
    auto refuse = [] {
        return core::ApiError::forbidden(
            "cross-site requests may not set the auth cookies; log in from this site");
    };
    if (auto fetch_site = req.header("sec-fetch-site");
        fetch_site && core::equals_ascii_ci(*fetch_site, "cross-site"))
        throw refuse();
    auto origin = req.header("origin");
    if (!origin) return;
    // scheme "://" host [":" port], nothing more (RFC 6454); "null" and the rest are refused.
    std::string_view o = *origin;
    size_t sep = o.find("://");
    if (sep == std::string_view::npos) throw refuse();
    std::string_view scheme = o.substr(0, sep), host = o.substr(sep + 3);
    if (!(core::equals_ascii_ci(scheme, "http") || core::equals_ascii_ci(scheme, "https")) ||
        host.find('/') != std::string_view::npos || !host_allowed(host, allowed))
        throw refuse();
}

}  // namespace fcgi
