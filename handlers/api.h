// The API as the FastCGI transport serves it: the route table and the hooks the transport may
// not implement itself (the process's database connection, authentication, database errors).
#pragma once

#include "fcgi/app.h"

namespace handlers {

// Handed to fcgi::run_pool / fcgi::run_cgi by the entry point (cli/main.cpp).
const fcgi::App& api_app();

}  // namespace handlers
