import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, signInDashboard, startTestServer, withSessionCookie, type DashboardSignIn, type TestServer } from '../../../../../test-utils/index.js';

const pgUrl = postgresTestUrl('dashboard sessions');
const DIALECTS = [{ name: 'SQLite', postgresUrl: undefined }, ...(pgUrl ? [{ name: 'PostgreSQL', postgresUrl: pgUrl }] : [])];

type SignedIn = DashboardSignIn;
const signIn = (t: TestServer, apiKey: string) => signInDashboard(t.url, apiKey);
const withCookie = withSessionCookie;

describe.each(DIALECTS)('dashboard session (cookie sign-in, CSRF) on $name', ({ postgresUrl }) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ postgresUrl });
  });
  afterAll(async () => {
    await t.close();
  });

  it('exchanges an admin key for an httpOnly, SameSite=Strict session cookie and a readable CSRF cookie', async () => {
    const session = await signIn(t, t.tenantA.adminKey);
    const sessionCookie = session.setCookie.find((line) => line.startsWith('tollgate_session='))!;
    expect(sessionCookie).toMatch(/HttpOnly/);
    expect(sessionCookie).toMatch(/SameSite=Strict/);
    expect(sessionCookie).not.toMatch(/Secure/); // plain http here
    const csrfCookie = session.setCookie.find((line) => line.startsWith('tollgate_csrf='))!;
    expect(csrfCookie).not.toMatch(/HttpOnly/);
    expect(sessionCookie).not.toContain(t.tenantA.adminKey);

    const me = await t.request('GET', '/api/v1/session', withCookie(session));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ tenantId: 'tenant-a', scopes: ['admin'], csrfToken: session.csrf });
  });

  it('marks both cookies Secure behind a TLS-terminating proxy', async () => {
    const response = await fetch(`${t.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ apiKey: t.tenantA.adminKey }),
    });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    for (const line of cookies) expect(line).toMatch(/; Secure/);
  });

  it('stores only a hash of the session token', async () => {
    const session = await signIn(t, t.tenantA.adminKey);
    const token = decodeURIComponent(session.cookie.split('; ')[0]!.split('=')[1]!);
    const rows = await t.store.db.selectFrom('dashboard_sessions').select('id').execute();
    expect(rows.map((row) => row.id)).not.toContain(token);
  });

  it('refuses keys with only machine scopes and invalid keys', async () => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce', 'events:write'] });
    const limited = await t.request('POST', '/api/v1/session', { body: { apiKey: token } });
    expect(limited.status).toBe(403);
    expect(limited.body.error.code).toBe('DASHBOARD_SCOPE_REQUIRED');
    const invalid = await t.request('POST', '/api/v1/session', { body: { apiKey: 'tg_live_abcdefgh_' + 'x'.repeat(40) } });
    expect(invalid.status).toBe(401);
    expect(invalid.body.error.code).toBe('UNAUTHENTICATED');
    expect((await t.request('GET', '/api/v1/session')).status).toBe(401);
  });

  it('authenticates API routes by cookie, tenant-scoped, and lets an API key header win', async () => {
    const session = await signIn(t, t.tenantA.adminKey);
    const keys = await t.request('GET', '/api/v1/keys', withCookie(session));
    expect(keys.status).toBe(200);
    expect(keys.body.keys.every((key: { tenantId: string }) => key.tenantId === 'tenant-a')).toBe(true);
    const asB = await t.request('GET', '/api/v1/keys', { key: t.tenantB.adminKey, ...withCookie(session) });
    expect(asB.body.keys.every((key: { tenantId: string }) => key.tenantId === 'tenant-b')).toBe(true);
  });

  it('requires the CSRF header on state-changing requests made with the cookie', async () => {
    const session = await signIn(t, t.tenantA.adminKey);
    const body = { scopes: ['enforce'], name: 'from the dashboard' };
    const missing = await t.request('POST', '/api/v1/keys', { body, ...withCookie(session) });
    expect(missing.status).toBe(403);
    expect(missing.body.error.code).toBe('CSRF_INVALID');
    const other = await signIn(t, t.tenantA.adminKey);
    const wrong = await t.request('POST', '/api/v1/keys', { body, ...withCookie(session, { 'x-csrf-token': other.csrf }) });
    expect(wrong.status).toBe(403);
    const ok = await t.request('POST', '/api/v1/keys', { body, ...withCookie(session, { 'x-csrf-token': session.csrf }) });
    expect(ok.status).toBe(201);
  });

  it('rejects forged and unknown session cookies', async () => {
    const forged = await t.request('GET', '/api/v1/keys', { headers: { cookie: 'tollgate_session=' + 'A'.repeat(43) } });
    expect(forged.status).toBe(401);
    const garbage = await t.request('GET', '/api/v1/keys', { headers: { cookie: 'tollgate_session=%E0%A4%A' } });
    expect(garbage.status).toBe(401);
  });

  it('ends the session when its key is revoked', async () => {
    const { record, token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['admin'], name: 'soon revoked' });
    const session = await signIn(t, token);
    expect((await t.request('GET', '/api/v1/keys', withCookie(session))).status).toBe(200);
    await t.services.keys.revoke(t.tenantA.id, record.id);
    expect((await t.request('GET', '/api/v1/keys', withCookie(session))).status).toBe(401);
    expect((await t.request('GET', '/api/v1/session', withCookie(session))).status).toBe(401);
  });

  it('signs out only with the CSRF header, then the cookie no longer works', async () => {
    const session = await signIn(t, t.tenantA.adminKey);
    const refused = await t.request('DELETE', '/api/v1/session', withCookie(session));
    expect(refused.status).toBe(403);
    const out = await t.request('DELETE', '/api/v1/session', withCookie(session, { 'x-csrf-token': session.csrf }));
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().some((line) => line.startsWith('tollgate_session=;') && line.includes('Max-Age=0'))).toBe(true);
    expect((await t.request('GET', '/api/v1/keys', withCookie(session))).status).toBe(401);
  });
});
