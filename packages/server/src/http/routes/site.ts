import type { Services } from '../../services/index.js';
import { publicRoute } from '../auth.js';
import type { TollgateApp } from '../type-provider.js';

const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tollgate</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>Tollgate is running</h1>
<p>The dashboard is not built yet. The API is documented at <a href="/docs">/docs</a>
(OpenAPI document: <a href="/openapi.json">/openapi.json</a>).</p>
</body></html>`;

/**
 * What the server answers at `/`: a placeholder page. The dashboard replaces this module's body with static
 * serving of its built files (the function name and signature stay, app.ts needs no change).
 *
 * @example
 * registerSiteRoutes(app, services);
 */
export function registerSiteRoutes(app: TollgateApp, _services: Services): void {
  app.get('/', { ...publicRoute(), schema: { hide: true } }, async (_request, reply) => {
    return reply.type('text/html; charset=utf-8').send(PLACEHOLDER_HTML);
  });
}
