import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, signInDashboard, startTestServer, withSessionCookie, type DashboardSignIn, type TestServer } from '../../../test-utils/index.js';

/** Attacks on the dashboard's session and on what the server sends the browser. */
describe('dashboard adversarial: session and browser-facing responses', () => {
  let root: string;
  let t: TestServer;
  let session: DashboardSignIn;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tollgate-dashboard-adversarial-'));
    const dist = join(root, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
    await writeFile(join(root, 'secret.txt'), 'OUTSIDE-DIST');
    t = await startTestServer({ config: { dashboardDir: dist } });
    session = await signInDashboard(t.url, t.tenantA.adminKey);
  });
  afterAll(async () => {
    await t.close();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps session-authenticated API answers out of the browser cache and unsniffed', async () => {
    // Broke: only /api/v1/session said no-store, so approvals, audit records and key lists read with the cookie
    // were storable, and stayed in a shared machine's browser cache after sign-out.
    const created = await rawRequest(`${t.url}/api/v1/keys`, {
      method: 'POST',
      headers: { ...withSessionCookie(session, { 'x-csrf-token': session.csrf }).headers, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['approvals'], name: 'on-call' }),
    });
    expect(created.status).toBe(201);
    for (const path of ['/api/v1/keys', '/api/v1/approvals', '/api/v1/audit/records', '/api/v1/dashboard/calls', '/api/v1/nowhere']) {
      const response = await rawRequest(`${t.url}${path}`, { method: 'GET', headers: withSessionCookie(session).headers });
      expect(response.headers['cache-control'], path).toBe('no-store');
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
    }
    for (const response of [created, await rawRequest(`${t.url}/api/v1/keys`, { method: 'GET', headers: { cookie: 'tollgate_session=' + 'x'.repeat(43) } })]) {
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('leaves the cache headers of the built files alone', async () => {
    const asset = await rawRequest(`${t.url}/assets/app-1.js`, { method: 'GET', headers: withSessionCookie(session).headers });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const index = await rawRequest(`${t.url}/approvals`, { method: 'GET', headers: withSessionCookie(session).headers });
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(index.headers['content-security-policy']).not.toMatch(/unsafe-(inline|eval)/);
    expect(index.headers['x-frame-options']).toBe('DENY');
  });

  it.each([
    ['text/plain (a cross-site form with enctype=text/plain)', 'text/plain', (key: string) => `{"apiKey":"${key}","x":"="}`],
    ['a url-encoded form', 'application/x-www-form-urlencoded', (key: string) => `apiKey=${key}`],
    ['a multipart form', 'multipart/form-data; boundary=b', (key: string) => `--b\r\nContent-Disposition: form-data; name="apiKey"\r\n\r\n${key}\r\n--b--\r\n`],
  ])('refuses a sign-in posted as %s (login CSRF)', async (_label, contentType, body) => {
    const response = await rawRequest(`${t.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': contentType, origin: 'https://evil.example' },
      body: body(t.tenantA.adminKey),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it.each(['', 'wrong', ' '])('refuses a cookie-authenticated kill switch with CSRF header %j', async (header) => {
    const response = await rawRequest(`${t.url}/api/sdk/kill-switch/global`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'text/plain', 'x-csrf-token': header },
      body: 'halt everything',
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text).error.code).toBe('CSRF_INVALID');
  });

  it.each([
    '/assets/..%2f..%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/assets/app-1.js%00.html',
    '/sessions/..%2f..%2fsecret.txt',
    '/assets/',
  ])('serves nothing outside the built files for %s', async (path) => {
    const response = await rawRequest(`${t.url}${path}`, { method: 'GET' });
    expect(response.text).not.toContain('OUTSIDE-DIST');
    if (response.status === 200) expect(response.text).toContain('<div id="root">');
  });

  it('refuses a request carrying two different session cookies instead of acting as the first one (cookie tossing)', async () => {
    // Broke: a sibling site of the same domain (or a man in the middle on plain http) can plant its own valid
    // session as `tollgate_session; Domain=<parent>; Path=/api`. The browser sends it before the victim's (longer
    // path first) and the server took the first one: the victim's dashboard silently worked in the attacker's
    // tenant, so the keys, policies and comments the victim typed went to the attacker.
    const attacker = await signInDashboard(t.url, t.tenantB.adminKey);
    const victim = await signInDashboard(t.url, t.tenantA.adminKey);
    const attackerToken = attacker.cookie.split('; ')[0]!;
    const tossed = `${attackerToken}; ${victim.cookie}`;
    const me = await rawRequest(`${t.url}/api/v1/session`, { method: 'GET', headers: { cookie: tossed } });
    expect(me.status).toBe(401);
    expect(me.text).not.toContain('tenant-b');
    const keys = await rawRequest(`${t.url}/api/v1/keys`, { method: 'GET', headers: { cookie: tossed } });
    expect(keys.status).toBe(401);
    const created = await rawRequest(`${t.url}/api/v1/keys`, {
      method: 'POST',
      headers: { cookie: tossed, 'x-csrf-token': attacker.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['admin'], name: 'agent key the victim meant to create' }),
    });
    expect(created.status).toBe(401);
    const tenantBKeys = await t.request('GET', '/api/v1/keys', { key: t.tenantB.adminKey });
    expect(tenantBKeys.body.keys.map((key: { name: string | null }) => key.name)).not.toContain('agent key the victim meant to create');
    // The same cookie sent twice is not ambiguous.
    const twice = await rawRequest(`${t.url}/api/v1/session`, { method: 'GET', headers: { cookie: `${victim.cookie}; ${victim.cookie.split('; ')[0]!}` } });
    expect(twice.status).toBe(200);
  });

  it('ends the session for good at sign-out, even when the cookie is replayed', async () => {
    const own = await signInDashboard(t.url, t.tenantA.adminKey);
    const out = await rawRequest(`${t.url}/api/v1/session`, { method: 'DELETE', headers: withSessionCookie(own, { 'x-csrf-token': own.csrf }).headers });
    expect(out.status).toBe(204);
    const replay = await rawRequest(`${t.url}/api/v1/keys`, { method: 'GET', headers: withSessionCookie(own).headers });
    expect(replay.status).toBe(401);
  });
});
