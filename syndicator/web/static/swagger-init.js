// Swagger UI for this site's /openapi.json. Set up here, not inline, because the page's
// Content Security Policy allows scripts from this site only. validatorUrl: null stops it
// sending the description to the public validator service.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
});
