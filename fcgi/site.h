// Which site a request is for and comes from: the Host allowlist and the same-site rule, checks
// on the request's own headers (no user, no database) that the transport and the cookie-setting
// routes apply.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fcgi/request.h"

namespace fcgi {

// True when a Host value ("name" or "name:port", "[v6]:port") is one of site.hosts: an entry
// without a port admits every port, one with a port only that port. Case-insensitive.
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed);
// 421 problem unless the request's Host is one of site.hosts (DNS rebinding: a page whose
// name an attacker points at 127.0.0.1 sends its own name as Host). A request without any
// Host passes: every browser sends one, so it is no rebinding page (nginx itself refuses it).
void require_allowed_host(const Request& req, const std::vector<std::string>& allowed);
// For routes that set cookies: 403 problem when a browser says the request comes from another
// site (Sec-Fetch-Site: cross-site, or an Origin whose host is not in site.hosts). Clients
// that send neither header (curl, scripts, non-browser apps) pass.
void require_same_site(const Request& req, const std::vector<std::string>& allowed);

}  // namespace fcgi
