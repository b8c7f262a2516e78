// The OpenAPI 3.1 document, compiled in from handlers/openapi.json.
#include <string_view>

#include "handlers/common.h"
#include "handlers/routes.h"

namespace handlers {

extern const std::string_view kOpenApiJson;

Response openapi_get(Request& req, Ctx&) {
    allow_params(req, {});
    return Response::json(200, std::string(kOpenApiJson));
}

}  // namespace handlers
