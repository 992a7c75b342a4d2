import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInDashboard, startTestServer, type DashboardSignIn, type TestServer } from '../../../../../test-utils/index.js';

/** Least-privilege dashboard sessions: a session acts with its key's current dashboard scopes, no more. */

type SignedIn = DashboardSignIn;
const signIn = (t: TestServer, apiKey: string) => signInDashboard(t.url, apiKey);

function asSession(session: SignedIn, options: { csrf?: boolean; body?: unknown } = {}) {
  const headers: Record<string, string> = { cookie: session.cookie };
  if (options.csrf) headers['x-csrf-token'] = session.csrf;
  return { headers, ...(options.body === undefined ? {} : { body: options.body }) };
}

/** A pending step-up hold of `tenantId` (policy: `pay` over 10 needs a person). */
async function pendingHold(t: TestServer, tenantId: string): Promise<string> {
  const name = `step-up-${randomBytes(4).toString('hex')}`;
  const source = `name: ${name}\nagents: { "*": { approvedScope: ["*"] } }\nrules:\n  - { id: big, match: { tools: [pay] }, when: "args.amount > 10", effect: STEP_UP, reason: needs a person }\n`;
  const policy = await t.services.policies.create(tenantId, { name, source }, null);
  await t.services.policies.activate(tenantId, policy.id, 1, null);
  const decision = await t.services.enforcement.enforce(tenantId, { agentId: 'payer', sessionId: name, toolName: 'pay', arguments: { amount: 50 } });
  if (!decision.holdToken) throw new Error('expected a STEP_UP hold');
  return decision.holdToken;
}

async function setKeyScopes(t: TestServer, keyId: string, scopes: string[]): Promise<void> {
  // No API changes a key's scopes today; an operator editing the table (or a future endpoint) must still be obeyed.
  await t.store.db.updateTable('api_keys').set({ scopes: JSON.stringify(scopes) }).where('id', '=', keyId).execute();
}

describe('dashboard sessions with less than admin', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets an approvals-only key list and approve a hold through the cookie, with the CSRF header', async () => {
    const hold = await pendingHold(t, t.tenantA.id);
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'], name: 'approver' });
    const session = await signIn(t, token);

    const me = await t.request('GET', '/api/v1/session', asSession(session));
    expect(me.body.scopes).toEqual(['approvals']);

    const pending = await t.request('GET', '/api/v1/approvals?status=pending', asSession(session));
    expect(pending.status).toBe(200);
    expect(pending.body.items.map((item: { id: string }) => item.id)).toContain(hold);

    const withoutCsrf = await t.request('POST', `/api/v1/approvals/${hold}/approve`, asSession(session, { body: { comment: 'ok' } }));
    expect(withoutCsrf.status).toBe(403);
    expect(withoutCsrf.body.error.code).toBe('CSRF_INVALID');
    expect((await t.services.holds.get(t.tenantA.id, hold)).status).toBe('pending');

    const approved = await t.request('POST', `/api/v1/approvals/${hold}/approve`, asSession(session, { csrf: true, body: { comment: 'ok' } }));
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');
    expect((await t.services.holds.get(t.tenantA.id, hold)).status).toBe('approved');
  });

  it.each([
    ['GET', '/api/v1/policies'],
    ['GET', '/api/v1/keys'],
    ['GET', '/api/v1/tenants'],
    ['GET', '/api/sdk/kill-switch'],
    ['GET', '/api/v1/audit/records'],
    ['GET', '/api/v1/dashboard/overview'],
    ['POST', '/api/v1/keys'],
    ['POST', '/api/sdk/kill-switch/global'],
  ])('gives an approvals-only session 403 on %s %s', async (method, path) => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] });
    const session = await signIn(t, token);
    const body = method === 'POST' ? { scopes: ['admin'], halted: true, reason: 'x' } : undefined;
    const answer = await t.request(method, path, asSession(session, { csrf: true, body }));
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('FORBIDDEN');
  });

  it('refuses sign-in with an enforce-only key (a machine key) with a machine-readable code', async () => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] });
    const refused = await t.request('POST', '/api/v1/session', { body: { apiKey: token } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('DASHBOARD_SCOPE_REQUIRED');
    expect(refused.headers.getSetCookie()).toEqual([]);
  });

  it('drops machine scopes from the session even when the key has them', async () => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals', 'enforce', 'events:write'] });
    const session = await signIn(t, token);
    expect((await t.request('GET', '/api/v1/session', asSession(session))).body.scopes).toEqual(['approvals']);
    const enforce = await t.request('POST', '/v1/enforce', asSession(session, { csrf: true, body: { agentId: 'a', toolName: 'pay', arguments: {} } }));
    expect(enforce.status).toBe(403);
    // The key itself still enforces: only the browser session is narrowed.
    const byKey = await t.request('POST', '/v1/enforce', { key: token, body: { agentId: 'a', toolName: 'pay', arguments: {} } });
    expect(byKey.status).toBe(200);
  });

  it('ends the session when its key is revoked', async () => {
    const { record, token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] });
    const session = await signIn(t, token);
    expect((await t.request('GET', '/api/v1/approvals', asSession(session))).status).toBe(200);
    await t.services.keys.revoke(t.tenantA.id, record.id);
    expect((await t.request('GET', '/api/v1/approvals', asSession(session))).status).toBe(401);
    expect((await t.request('GET', '/api/v1/session', asSession(session))).status).toBe(401);
  });

  it('follows the key when its scopes change, and ends when the last dashboard scope goes', async () => {
    const { record, token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals', 'enforce'] });
    const session = await signIn(t, token);
    expect((await t.request('GET', '/api/v1/policies', asSession(session))).status).toBe(403);

    await setKeyScopes(t, record.id, ['approvals', 'policies', 'enforce']);
    expect((await t.request('GET', '/api/v1/policies', asSession(session))).status).toBe(200);
    expect((await t.request('GET', '/api/v1/session', asSession(session))).body.scopes).toEqual(['approvals', 'policies']);

    await setKeyScopes(t, record.id, ['policies', 'enforce']);
    expect((await t.request('GET', '/api/v1/approvals', asSession(session))).status).toBe(403);

    await setKeyScopes(t, record.id, ['enforce']);
    expect((await t.request('GET', '/api/v1/policies', asSession(session))).status).toBe(401);
    expect((await t.request('GET', '/api/v1/session', asSession(session))).status).toBe(401);

    // Ended for good: giving a dashboard scope back does not revive it.
    await setKeyScopes(t, record.id, ['approvals']);
    expect((await t.request('GET', '/api/v1/approvals', asSession(session))).status).toBe(401);
  });

  it("keeps a tenant A session away from tenant B's approvals", async () => {
    const holdOfB = await pendingHold(t, t.tenantB.id);
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] });
    const session = await signIn(t, token);

    const list = await t.request('GET', '/api/v1/approvals', asSession(session));
    expect(list.status).toBe(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(holdOfB);

    for (const action of ['approve', 'deny']) {
      const answer = await t.request('POST', `/api/v1/approvals/${holdOfB}/${action}`, asSession(session, { csrf: true, body: {} }));
      expect(answer.status).toBe(404);
    }
    // A tenant id smuggled in the query is not a way across either.
    const smuggled = await t.request('GET', '/api/v1/approvals?tenantId=tenant-b', asSession(session));
    expect(smuggled.status).toBe(400);
    expect((await t.services.holds.get(t.tenantB.id, holdOfB)).status).toBe('pending');
  });
});
