import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, manualClock, type Store } from '../src/index.js';
import { KeyService } from '../src/services/keys/index.js';
import { openTestSqliteStore, rawRequest, signInDashboard, startTestServer, withSessionCookie, type DashboardSignIn, type TestServer, type TestStore } from '../../../test-utils/index.js';

// Adversarial tests of API-key authentication, key management across tenants and the dashboard session.

type SignedIn = DashboardSignIn;
const signIn = (t: TestServer, apiKey: string, headers: Record<string, string> = {}) => signInDashboard(t.url, apiKey, headers);
const withCookie = withSessionCookie;
async function rawSignOut(url: string, headers: Record<string, string>): Promise<string[]> {
  const response = await fetch(`${url}/api/v1/session`, { method: 'DELETE', headers });
  expect(response.status).toBeLessThan(300);
  return response.headers.getSetCookie();
}

describe('adversarial: API keys, scopes and the dashboard session', () => {
  const clock = manualClock(Date.parse('2026-06-01T00:00:00Z'));
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  const newKey = async (tenantId: string, scopes: string[], extra: { expiresAt?: number } = {}) =>
    t.services.keys.create({ tenantId, scopes, name: 'adversarial', ...extra });
  const whoami = (headers: Record<string, string>) => t.request('GET', '/api/v1/auth/whoami', { headers });

  describe('a browser session never acts with a machine scope', () => {
    it('an admin key’s dashboard session cannot decide tool calls or write SDK events (admin does not imply them for a session)', async () => {
      const session = await signIn(t, t.tenantA.adminKey);
      const csrf = { 'x-csrf-token': session.csrf };
      const enforce = await t.request('POST', '/v1/enforce', { body: { agentId: 'bot', toolName: 'send_email' }, ...withCookie(session, csrf) });
      expect(enforce.status).toBe(403);
      expect(enforce.body.error).toMatchObject({ code: 'FORBIDDEN', details: { requiredScope: 'enforce' } });
      const output = await t.request('POST', '/v1/enforce/output', { body: { sessionId: 's', toolName: 'x', output: 'y' }, ...withCookie(session, csrf) });
      expect(output.status).toBe(403);
      const events = await t.request('POST', '/v1/events/batch', { body: { events: [] }, ...withCookie(session, csrf) });
      expect(events.status).toBe(403);
      expect(events.body.error).toMatchObject({ code: 'FORBIDDEN', details: { requiredScope: 'events:write' } });
      const decisions = await t.store.db.selectFrom('decisions').select('id').where('tenant_id', '=', t.tenantA.id).execute();
      expect(decisions).toHaveLength(0);
      // The same admin key as a header still may (a machine holding the key is not a browser).
      const asKey = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot', toolName: 'send_email' } });
      expect(asKey.status).toBe(200);
      // And the session keeps every dashboard scope admin implies.
      expect((await t.request('GET', '/api/v1/keys', withCookie(session))).status).toBe(200);
    });
  });

  describe('key management across tenants', () => {
    it('an admin key of tenant B cannot create, list, read, revoke or re-date keys of tenant A or of default', async () => {
      const victim = await newKey(t.tenantA.id, ['enforce']);
      const system = await t.services.store.apiKeys.list('default');
      const systemKeyId = system[0]!.id;
      const b = t.tenantB.adminKey;
      for (const target of [t.tenantA.id, 'default']) {
        const created = await t.request('POST', '/api/v1/keys', { key: b, body: { scopes: ['admin'], tenantId: target } });
        expect(created.status, target).toBe(403);
        expect(created.body.error.code).toBe('TENANT_MISMATCH');
        expect((await t.request('GET', `/api/v1/keys?tenantId=${target}`, { key: b })).status).toBe(403);
      }
      for (const [tenant, id] of [[t.tenantA.id, victim.record.id], ['default', systemKeyId]] as const) {
        // Without tenantId the key's own tenant is used: the other tenant's key is simply not found there.
        expect((await t.request('GET', `/api/v1/keys/${id}`, { key: b })).status).toBe(404);
        expect((await t.request('POST', `/api/v1/keys/${id}/revoke`, { key: b })).status).toBe(404);
        expect((await t.request('PATCH', `/api/v1/keys/${id}`, { key: b, body: { expiresAt: null } })).status).toBe(404);
        expect((await t.request('POST', `/api/v1/keys/${id}/revoke?tenantId=${tenant}`, { key: b })).status).toBe(403);
        expect((await t.request('PATCH', `/api/v1/keys/${id}?tenantId=${tenant}`, { key: b, body: { expiresAt: '2030-01-01T00:00:00Z' } })).status).toBe(403);
      }
      const after = await t.services.keys.get(t.tenantA.id, victim.record.id);
      expect(after).toMatchObject({ revokedAt: null, expiresAt: null });
      expect((await t.services.keys.get('default', systemKeyId)).revokedAt).toBeNull();
      expect((await t.request('POST', '/api/v1/tenants', { key: b, body: { id: 'evil' } })).status).toBe(403);
    });

    it('a non-admin key (every other scope) reaches no key or tenant route, including through its dashboard session', async () => {
      const { token } = await newKey(t.tenantA.id, ['enforce', 'events:write', 'agents', 'audit:read', 'approvals', 'policies']);
      expect((await t.request('POST', '/api/v1/keys', { key: token, body: { scopes: ['admin'] } })).status).toBe(403);
      expect((await t.request('GET', '/api/v1/keys', { key: token })).status).toBe(403);
      expect((await t.request('GET', '/api/v1/tenants', { key: token })).status).toBe(403);
      const session = await signIn(t, token);
      const created = await t.request('POST', '/api/v1/keys', { body: { scopes: ['admin'] }, ...withCookie(session, { 'x-csrf-token': session.csrf }) });
      expect(created.status).toBe(403);
      expect(created.body.error.details).toMatchObject({ requiredScope: 'admin' });
    });

    it('a session of tenant B acts only in tenant B', async () => {
      const session = await signIn(t, t.tenantB.adminKey);
      const listed = await t.request('GET', `/api/v1/keys?tenantId=${t.tenantA.id}`, withCookie(session));
      expect(listed.status).toBe(403);
      const created = await t.request('POST', '/api/v1/keys', { body: { scopes: ['admin'], tenantId: 'default' }, ...withCookie(session, { 'x-csrf-token': session.csrf }) });
      expect(created.status).toBe(403);
    });
  });

  describe('presenting the key', () => {
    it('refuses two different keys in Authorization and X-API-Key instead of silently picking one', async () => {
      const low = await newKey(t.tenantA.id, ['audit:read']);
      const both = await whoami({ authorization: `Bearer ${low.token}`, 'x-api-key': t.tenantB.adminKey });
      expect(both.status).toBe(401);
      expect(both.body.error.code).toBe('UNAUTHENTICATED');
      const swapped = await whoami({ authorization: `Bearer ${t.tenantB.adminKey}`, 'x-api-key': low.token });
      expect(swapped.status).toBe(401);
      // The same key in both is not ambiguous.
      const same = await whoami({ authorization: `Bearer ${low.token}`, 'x-api-key': low.token });
      expect(same.status).toBe(200);
      expect(same.body.keyId).toBe(low.record.id);
    });

    it('refuses a repeated Authorization header with different keys (Node would keep only the first)', async () => {
      const low = await newKey(t.tenantA.id, ['audit:read']);
      const send = (values: string[]) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(`${t.url}/api/v1/auth/whoami`, { method: 'GET', headers: { authorization: values } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await send([`Bearer ${low.token}`, `Bearer ${t.tenantB.adminKey}`])).toBe(401);
      expect(await send([`Bearer ${t.tenantB.adminKey}`, `Bearer ${low.token}`])).toBe(401);
      expect(await send([`Bearer ${low.token}`, `Bearer ${low.token}`])).toBe(200);
    });

    it('tolerates surrounding whitespace but no look-alike, lengthened or case-changed token', async () => {
      const { token, record } = await newKey(t.tenantA.id, ['audit:read']);
      expect((await whoami({ authorization: `Bearer   ${token}  ` })).body.keyId).toBe(record.id);
      expect((await whoami({ 'x-api-key': `  ${token} ` })).body.keyId).toBe(record.id);
      const secret = token.slice(token.lastIndexOf('_') + 1);
      const variants = [
        token.replace('tg_live_', 'tg_Live_'),
        token.replace(record.id, record.id.toUpperCase()),
        token.replace('tg_live_', 'tg_l\u0456ve_'), // Cyrillic і (a random hex key may hold no letter to swap)
        token.replace('_', '\uFF3F'), // fullwidth low line
        `${token}\u200B`, // zero-width space
        `${token}\u00A0x`,
        `${token}${secret}`,
        token.replace(`_${secret}`, `_${secret.slice(0, 31)}`),
      ].filter((variant) => variant !== token); // e.g. an all-digit id has no upper case
      for (const variant of variants) {
        const response = await rawRequest(`${t.url}/api/v1/auth/whoami`, { method: 'GET', headers: { 'x-api-key': Buffer.from(variant).toString('latin1') } }).catch(() => undefined);
        if (response) expect(response.status, JSON.stringify(variant)).toBe(401);
      }
      expect((await whoami({ authorization: `Bearer ${token}` })).status).toBe(200);
    });

    it('accepts ids and secrets at the format limits and refuses one past them', async () => {
      const ok = [`tg_live_${'a'.repeat(8)}_${'B'.repeat(32)}`, `tg_live_${'c'.repeat(32)}_${'D'.repeat(128)}`];
      for (const token of ok) {
        await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'], token });
        expect((await whoami({ authorization: `Bearer ${token}` })).status).toBe(200);
        expect((await whoami({ authorization: `Bearer ${token}` })).status).toBe(200); // remembered-secret path
      }
      const past = [`tg_live_${'a'.repeat(7)}_${'B'.repeat(32)}`, `tg_live_${'c'.repeat(33)}_${'D'.repeat(128)}`, `tg_live_${'c'.repeat(32)}_${'D'.repeat(129)}`, `tg_live_${'a'.repeat(8)}_${'B'.repeat(31)}`];
      for (const token of past) expect((await whoami({ authorization: `Bearer ${token}` })).status, token).toBe(401);
    });

    it('an oversized credential header is refused without authenticating anybody', async () => {
      const { token } = await newKey(t.tenantA.id, ['audit:read']);
      const response = await rawRequest(`${t.url}/api/v1/auth/whoami`, { method: 'GET', headers: { authorization: `Bearer ${token}${'a'.repeat(70_000)}` } }).catch(() => undefined);
      if (response) expect([401, 431]).toContain(response.status);
      expect((await whoami({ authorization: `Bearer ${token}` })).status).toBe(200);
    });
  });

  describe('expiry and revocation against the auth cache and the session', () => {
    it('a cached key stops working the moment its expiry passes (the cache does not extend it)', async () => {
      const { token } = await newKey(t.tenantA.id, ['audit:read'], { expiresAt: clock.now() + 5_000 });
      expect((await whoami({ authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await whoami({ authorization: `Bearer ${token}` })).status).toBe(200); // now from the remembered secret
      clock.advance(5_000);
      const after = await whoami({ authorization: `Bearer ${token}` });
      expect(after.status).toBe(401);
      expect(after.body.error.message).toBe('API key expired');
    });

    it('a dashboard session dies when its key expires, and with its key’s revocation; replay after sign-out fails', async () => {
      const expiring = await newKey(t.tenantA.id, ['approvals'], { expiresAt: clock.now() + 60_000 });
      const session = await signIn(t, expiring.token);
      expect((await t.request('GET', '/api/v1/session', withCookie(session))).status).toBe(200);
      clock.advance(60_000);
      expect((await t.request('GET', '/api/v1/session', withCookie(session))).status).toBe(401);
      expect((await t.request('GET', '/api/v1/approvals', withCookie(session))).status).toBe(401);

      const revoked = await newKey(t.tenantA.id, ['admin']);
      const second = await signIn(t, revoked.token);
      await t.request('POST', `/api/v1/keys/${revoked.record.id}/revoke`, { key: t.tenantA.adminKey });
      expect((await t.request('GET', '/api/v1/keys', withCookie(second))).status).toBe(401);

      const third = await signIn(t, t.tenantA.adminKey);
      expect((await t.request('DELETE', '/api/v1/session', withCookie(third, { 'x-csrf-token': third.csrf }))).status).toBe(204);
      expect((await t.request('GET', '/api/v1/session', withCookie(third))).status).toBe(401);
      expect((await t.request('GET', '/api/v1/keys', withCookie(third))).status).toBe(401);
      const replayPost = await t.request('POST', '/api/v1/keys', { body: { scopes: ['admin'] }, ...withCookie(third, { 'x-csrf-token': third.csrf }) });
      expect(replayPost.status).toBe(401);
    });

    it('a key revived after it expired (or after a session saw it expired) does not revive its dashboard sessions', async () => {
      // Expiry passes with no request in between, then the key gets a new expiry: the old session stays dead.
      const quiet = await newKey(t.tenantA.id, ['approvals'], { expiresAt: clock.now() + 60_000 });
      const idle = await signIn(t, quiet.token);
      clock.advance(60_001);
      const revived = await t.request('PATCH', `/api/v1/keys/${quiet.record.id}`, { key: t.tenantA.adminKey, body: { expiresAt: new Date(clock.now() + 3_600_000).toISOString() } });
      expect(revived.status).toBe(200);
      expect((await t.request('GET', '/api/v1/session', withCookie(idle))).status).toBe(401);
      expect((await whoami({ authorization: `Bearer ${quiet.token}` })).status).toBe(200); // the key itself works again
      const fresh = await signIn(t, quiet.token); // and a new sign-in does
      expect((await t.request('GET', '/api/v1/session', withCookie(fresh))).status).toBe(200);

      // A session that saw its key expired, then the key revived: still dead.
      const seen = await newKey(t.tenantA.id, ['approvals'], { expiresAt: clock.now() + 60_000 });
      const watched = await signIn(t, seen.token);
      clock.advance(60_001);
      expect((await t.request('GET', '/api/v1/session', withCookie(watched))).status).toBe(401);
      await t.request('PATCH', `/api/v1/keys/${seen.record.id}`, { key: t.tenantA.adminKey, body: { expiresAt: null } });
      expect((await t.request('GET', '/api/v1/session', withCookie(watched))).status).toBe(401);

      // Changing the expiry of a key that has not expired leaves its sessions alone.
      const live = await newKey(t.tenantA.id, ['approvals'], { expiresAt: clock.now() + 60_000 });
      const kept = await signIn(t, live.token);
      await t.request('PATCH', `/api/v1/keys/${live.record.id}`, { key: t.tenantA.adminKey, body: { expiresAt: null } });
      expect((await t.request('GET', '/api/v1/session', withCookie(kept))).status).toBe(200);
    });

    it('sign-in never adopts a session id the browser already had (no fixation) and issues fresh tokens each time', async () => {
      const planted = 'P'.repeat(43);
      const response = await fetch(`${t.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `tollgate_session=${planted}; tollgate_csrf=planted` },
        body: JSON.stringify({ apiKey: t.tenantA.adminKey }),
      });
      expect(response.status).toBe(200);
      const cookies = response.headers.getSetCookie().join('\n');
      expect(cookies).not.toContain(planted);
      expect(cookies).not.toContain('tollgate_csrf=planted');
      expect((await t.request('GET', '/api/v1/session', { headers: { cookie: `tollgate_session=${planted}` } })).status).toBe(401);
      const a = await signIn(t, t.tenantA.adminKey);
      const b = await signIn(t, t.tenantA.adminKey);
      expect(a.cookie).not.toBe(b.cookie);
      expect(a.csrf).not.toBe(b.csrf);
    });

    it('cookie flags: HttpOnly on the session, SameSite=Strict and Path=/ on both, Secure behind TLS, Max-Age within the session', async () => {
      const plain = await signIn(t, t.tenantA.adminKey);
      const tls = await signIn(t, t.tenantA.adminKey, { 'x-forwarded-proto': 'https' });
      for (const { setCookie } of [plain, tls]) {
        const session = setCookie.find((line) => /^(__Host-)?tollgate_session=/.test(line))!;
        expect(session).toMatch(/; HttpOnly/);
        for (const line of setCookie) {
          expect(line).toMatch(/; SameSite=Strict/);
          expect(line).toMatch(/; Path=\//);
          const maxAge = Number(/Max-Age=(\d+)/.exec(line)![1]);
          expect(maxAge).toBeGreaterThan(0);
          expect(maxAge).toBeLessThanOrEqual(12 * 60 * 60);
        }
      }
      for (const line of tls.setCookie) expect(line).toMatch(/; Secure/);
    });

    // Cookie tossing behind TLS: a sibling site of the registrable domain (or a man in the middle on plain http) can set
    // an unprefixed `tollgate_session` for this host with its own valid session (tenant B). Over https the server now
    // sets and reads only `__Host-` cookies, which browsers accept from this exact origin only.
    it('behind TLS uses __Host- cookie names and ignores unprefixed (plantable) session cookies', async () => {
      const https = { 'x-forwarded-proto': 'https' };
      const victim = await signIn(t, t.tenantA.adminKey, https);
      expect(victim.setCookie.map((line) => line.split('=')[0])).toEqual(['__Host-tollgate_session', '__Host-tollgate_csrf']);
      for (const line of victim.setCookie) expect(line).toMatch(/; Secure/);
      expect(victim.setCookie.join('\n')).not.toMatch(/Domain=/i);
      const planter = await signIn(t, t.tenantB.adminKey); // plain http: unprefixed names
      const plantedSession = planter.setCookie.find((line) => line.startsWith('tollgate_session='))!.split(';')[0]!;

      // The planted cookie sent first (longer Path) and the victim's prefixed one: the victim's session is used.
      const both = await t.request('GET', '/api/v1/session', { headers: { ...https, cookie: `${plantedSession}; ${victim.cookie}` } });
      expect(both.status).toBe(200);
      expect(both.body.tenantId).toBe(t.tenantA.id);
      // The planted cookie alone over https is not a session at all.
      const alone = await t.request('GET', '/api/v1/keys', { headers: { ...https, cookie: plantedSession } });
      expect(alone.status).toBe(401);
      // The same cookie over plain http still works (local use without TLS keeps the unprefixed names).
      expect((await t.request('GET', '/api/v1/session', { headers: { cookie: plantedSession } })).body.tenantId).toBe(t.tenantB.id);
      // Sign-out behind TLS clears the prefixed and the unprefixed names.
      const out = await rawSignOut(t.url, { ...https, cookie: victim.cookie, 'x-csrf-token': victim.csrf });
      const cleared = out.map((line) => line.split('=')[0]);
      expect(cleared).toEqual(expect.arrayContaining(['__Host-tollgate_session', '__Host-tollgate_csrf', 'tollgate_session', 'tollgate_csrf']));
    });

    it('every state-changing method with the cookie needs the CSRF token: missing, empty, wrong, another session’s', async () => {
      const session = await signIn(t, t.tenantA.adminKey);
      const other = await signIn(t, t.tenantA.adminKey);
      const victim = await newKey(t.tenantA.id, ['audit:read']);
      const attempts: Array<[string, string, unknown]> = [
        ['POST', '/api/v1/keys', { scopes: ['admin'] }],
        ['POST', `/api/v1/keys/${victim.record.id}/revoke`, undefined],
        ['PATCH', `/api/v1/keys/${victim.record.id}`, { expiresAt: null }],
        ['POST', '/api/v1/tenants', { id: 'csrf-tenant' }],
        ['DELETE', '/api/v1/session', undefined],
      ];
      for (const [method, path, body] of attempts) {
        // (Surrounding spaces are not tried: HTTP strips them from header values before the server sees them.)
        for (const csrf of [undefined, '', 'x', other.csrf, `${session.csrf}x`, session.csrf.slice(0, -1), session.csrf.toUpperCase()]) {
          const headers = csrf === undefined ? {} : { 'x-csrf-token': csrf };
          const response = await t.request(method, path, { ...(body === undefined ? {} : { body }), ...withCookie(session, headers) });
          expect(response.status, `${method} ${path} ${JSON.stringify(csrf)}`).toBe(403);
          expect(response.body.error.code).toBe('CSRF_INVALID');
        }
      }
      expect((await t.services.keys.get(t.tenantA.id, victim.record.id)).revokedAt).toBeNull();
      expect((await t.request('GET', '/api/v1/session', withCookie(session))).status).toBe(200);
    });
  });
});

describe('adversarial: the auth cache never keeps a record older than a revocation', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestSqliteStore();
    await store.store.tenants.create({ id: 'race', name: 'race', createdAt: 0 });
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** A store whose key lookups for authentication can be held after reading the row (a slow database). */
  function slowAuthLookups(inner: Store) {
    let hold: Promise<void> | undefined;
    let release: () => void = () => {};
    let read: () => void = () => {};
    const wrapped: Store = {
      ...inner,
      apiKeys: {
        ...inner.apiKeys,
        async findForAuthentication(id: string) {
          const row = await inner.apiKeys.findForAuthentication(id);
          if (hold) {
            read();
            await hold;
          }
          return row;
        },
      },
    };
    return {
      store: wrapped,
      /** The next lookup reads its row, then waits; resolves when the row was read. */
      holdNext(): Promise<void> {
        hold = new Promise<void>((resolve) => (release = resolve));
        return new Promise<void>((resolve) => (read = resolve));
      },
      release(): void {
        hold = undefined;
        release();
      },
    };
  }

  it('reads a cached key in place from an offset (the direct path passes the whole Authorization value) and refuses any other secret', async () => {
    const keys = new KeyService({ store: store.store, clock: manualClock(1_000_000), bus: createInProcessBus(), cacheTtlMs: 30_000 });
    const { token } = await keys.create({ tenantId: 'race', scopes: ['enforce'] });
    expect((await keys.authenticate(token)).ok).toBe(true); // cached and verified
    expect(keys.authenticateFromCache(`Bearer ${token}`, 7)?.ok).toBe(true);
    const last = token.at(-1) === 'a' ? 'b' : 'a';
    for (const header of [`Bearer ${token.slice(0, -1)}${last}`, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Bearer  ${token}`, `Bearer ${token}`.slice(0, 7)]) {
      const result = keys.authenticateFromCache(header, 7) ?? (await keys.authenticate(header.slice(7)));
      expect({ header, ok: result.ok }).toEqual({ header, ok: false });
    }
    keys.close();
  });

  it.each(['revoke', 'expire'] as const)('a %s that lands while a lookup is in flight is honoured by the next request', async (change) => {
    const clock = manualClock(1_000_000);
    const slow = slowAuthLookups(store.store);
    const keys = new KeyService({ store: slow.store, clock, bus: createInProcessBus(), cacheTtlMs: 30_000 });
    const { record, token } = await keys.create({ tenantId: 'race', scopes: ['enforce'] });
    const wasRead = slow.holdNext();
    const inFlight = keys.authenticate(token);
    await wasRead; // the lookup has the row as it was before the change
    if (change === 'revoke') await keys.revoke('race', record.id);
    else await keys.setExpiry('race', record.id, clock.now() + 1_000);
    slow.release();
    expect((await inFlight).ok).toBe(true); // decided on the row it read: fine for this one request
    clock.advance(1_000);
    const next = keys.authenticateFromCache(token) ?? (await keys.authenticate(token));
    expect(next).toEqual({ ok: false, reason: change === 'revoke' ? 'revoked' : 'expired' });
    keys.close();
  });
});
