import type { FastifyReply, FastifyRequest } from 'fastify';
import { publicRoute } from './auth.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';
import type { TollgateApp } from './type-provider.js';

/**
 * Paths the dashboard routes on the client. Each answers with index.html (and so does every path below
 * it), so links can be reloaded and shared. Explicit on purpose: a catch-all would shadow the API's 404s.
 * Keep in sync with `PAGES` in packages/dashboard/src/app.tsx (the browser test reloads each page).
 */
export const DASHBOARD_CLIENT_ROUTES = [
  'overview',
  'sessions',
  'violations',
  'approvals',
  'policies',
  'agents',
  'audit',
  'kill-switch',
  'settings',
  'sign-in',
] as const;

/** Content-Security-Policy of the dashboard: only its own scripts, styles and API. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HIDDEN = { schema: { hide: true } };

function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/.test(header);
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.header('content-type', file.contentType);
  reply.header('etag', file.etag);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (file.contentType.startsWith('text/html')) {
    reply.header('content-security-policy', DASHBOARD_CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
  }
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  if (file.gzip && acceptsGzip(request)) {
    reply.header('content-encoding', 'gzip');
    reply.header('vary', 'accept-encoding');
    return reply.send(file.gzip);
  }
  return reply.send(file.body);
}

/**
 * Serves the built dashboard from memory: every file of `dir` at its path, index.html at `/` and at
 * each client route. Only GET/HEAD of known paths are taken, so `/api`, `/v1`, `/docs`, `/healthz`…
 * keep their own routes and their JSON 404s.
 *
 * @example
 * registerDashboardStatic(app, '/srv/tollgate/dashboard/dist');
 */
export function registerDashboardStatic(app: TollgateApp, dir: string): void {
  const files = loadStaticFiles(dir);
  const index = files.find((file) => file.urlPath === '/index.html');
  if (!index) throw new Error(`Dashboard directory ${dir} has no index.html`);
  const serveIndex = (request: FastifyRequest, reply: FastifyReply) => sendFile(request, reply, index);
  for (const file of files) {
    if (file.urlPath === '/index.html') continue;
    app.get(file.urlPath, { ...publicRoute(), ...HIDDEN }, (request, reply) => sendFile(request, reply, file));
  }
  app.get('/', { ...publicRoute(), ...HIDDEN }, serveIndex);
  app.get('/index.html', { ...publicRoute(), ...HIDDEN }, serveIndex);
  for (const route of DASHBOARD_CLIENT_ROUTES) {
    app.get(`/${route}`, { ...publicRoute(), ...HIDDEN }, serveIndex);
    app.get(`/${route}/*`, { ...publicRoute(), ...HIDDEN }, serveIndex);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Answers `/` with a page saying the dashboard is not built (503), instead of a bare 404.
 *
 * @example
 * registerDashboardMissing(app, 'packages/dashboard/dist');
 */
export function registerDashboardMissing(app: TollgateApp, lookedIn: string): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tollgate: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 4rem auto; padding: 0 1rem">
<h1>Tollgate is running, but the dashboard is not built</h1>
<p>No <code>index.html</code> was found in <code>${escapeHtml(lookedIn)}</code>.</p>
<p>Run <code>npm run build</code> at the repository root (it builds <code>packages/dashboard</code>), or set
<code>TOLLGATE_DASHBOARD_DIR</code> to a directory holding the built files, then restart.</p>
<p>The API works without it and is documented at <a href="/docs">/docs</a>.</p>
</body></html>`;
  app.get('/', { ...publicRoute(), ...HIDDEN }, async (_request, reply) =>
    reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html),
  );
}
