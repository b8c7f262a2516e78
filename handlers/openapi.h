// The served OpenAPI document (handlers/openapi.cpp).
#pragma once

#include <span>
#include <string>

#include "fcgi/router.h"

namespace handlers {

// handlers/openapi.json's prose merged with the schemas and query parameters generated from
// the routes' resource descriptions. Throws std::logic_error when a route is missing from the
// prose or names a query parameter nobody declares.
std::string openapi_document(std::span<const fcgi::Route> routes);

}  // namespace handlers
