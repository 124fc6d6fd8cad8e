import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * GET /docs: Swagger UI over GET /openapi.json, every file served by this
 * service (swagger-ui-dist from node_modules, no CDN: it works offline). The
 * page has no inline script, as the CSP requires (script-src 'self'): the
 * initializer is a file of its own, /docs/docs.js.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>TokenTally API</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <script src="/docs/swagger-ui-bundle.js" defer></script>
    <script src="/docs/docs.js" defer></script>
  </head>
  <body>
    <div id="swagger-ui"></div>
  </body>
</html>
`;

/**
 * The initializer: Swagger UI on this service's document. No validator badge
 * (it would load an image from validator.swagger.io), no remote URL box.
 */
export const DOCS_SCRIPT = `'use strict';
// TokenTally API docs: Swagger UI over /openapi.json (libs/openapi/src/docs-page.ts).
window.ui = window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  docExpansion: 'none',
  defaultModelsExpandDepth: -1,
  displayRequestDuration: true,
  persistAuthorization: false,
});
`;

export interface DocsAsset {
  body: string;
  type: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The files of /docs/<file>, read once: Swagger UI's bundle and stylesheet (swagger-ui-dist), and the initializer. */
export function loadDocsAssets(): Map<string, DocsAsset> {
  const dist = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const read = (file: string) =>
    fs
      .readFileSync(path.join(dist, file), 'utf8')
      // The source maps are not served: no request for them from a browser's developer tools.
      .replace(/\/[*/]# sourceMappingURL=\S+?(\*\/)?\s*$/, '');
  return new Map([
    ['swagger-ui-bundle.js', { body: read('swagger-ui-bundle.js'), type: JS }],
    ['swagger-ui.css', { body: read('swagger-ui.css'), type: CSS }],
    ['docs.js', { body: DOCS_SCRIPT, type: JS }],
  ]);
}
