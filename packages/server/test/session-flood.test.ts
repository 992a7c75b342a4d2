// Signing in to the dashboard is a public route (the key travels in the body), so the per-key request limit never
// applied, and each sign-in stores a session and appends a ledger record: one read-only key signing in in a loop
// wrote 200 permanent ledger records in a second (session 12 red-team finding).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { SIGN_INS_PER_KEY_PER_MINUTE } from '../src/http/routes/session.js';
import { MAX_SESSIONS_PER_KEY } from '../src/services/dashboard/session-service.js';

describe('dashboard sign-in floods', () => {
  let t: TestServer;
  // Moved on between sign-ins that must be ordered: two sign-ins in one millisecond have no oldest.
  let skewMs = 0;
  beforeAll(async () => {
    t = await startTestServer({ clock: { now: () => Date.now() + skewMs } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const signIn = (apiKey: string) => fetch(`${t.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey }) });
  const signInRecords = async () => (await t.store.ledger.records(t.tenantA.id, { types: ['dashboard.sign_in'] }, 100_000)).length;

  it(`allows ${SIGN_INS_PER_KEY_PER_MINUTE} sign-ins per key per minute, then 429 with Retry-After and nothing stored`, async () => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'], name: 'reader' });
    const before = await signInRecords();
    const statuses: number[] = [];
    for (let i = 0; i < SIGN_INS_PER_KEY_PER_MINUTE + 5; i += 1) statuses.push((await signIn(token)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(SIGN_INS_PER_KEY_PER_MINUTE);
    expect(statuses.slice(SIGN_INS_PER_KEY_PER_MINUTE).every((s) => s === 429)).toBe(true);
    const refused = await signIn(token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; details: { limit: string } } };
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'sign_ins_per_key' } });
    expect((await signInRecords()) - before).toBe(SIGN_INS_PER_KEY_PER_MINUTE);
    // Another key signs in meanwhile; a wrong key is still 401, not 429.
    expect((await signIn(t.tenantA.adminKey)).status).toBe(200);
    expect((await signIn(`${token.slice(0, -4)}zzzz`)).status).toBe(401);
  });

  it(`keeps at most ${MAX_SESSIONS_PER_KEY} open sessions per key: the oldest end first`, async () => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'], name: 'approver' });
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_KEY + 3; i += 1) {
      skewMs += 2;
      tokens.push((await t.services.dashboardSessions.signIn(token, 'test')).token);
    }
    const alive = await Promise.all(tokens.map(async (session) => (await t.services.dashboardSessions.authenticate(session)) !== undefined));
    expect(alive.slice(0, 3)).toEqual([false, false, false]);
    expect(alive.slice(3).every(Boolean)).toBe(true);
    // Other keys' sessions are untouched.
    const other = await t.services.dashboardSessions.signIn(t.tenantA.adminKey, 'test');
    expect(await t.services.dashboardSessions.authenticate(other.token)).toBeDefined();
    expect(await t.services.dashboardSessions.authenticate(tokens.at(-1)!)).toBeDefined();
  });
});
