// Swagger UI for the public API document (no inline script: the page's CSP may forbid it).
"use strict";
const script = document.currentScript;
window.ui = SwaggerUIBundle({
  url: script.dataset.schemaUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
});
