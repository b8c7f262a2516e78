// Starts Swagger UI on Rostrum's OpenAPI document. The Authorize button uses the OAuth2
// password flow declared there (POST /api/v1/auth/token).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
  });
});
