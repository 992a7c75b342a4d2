// Long polls (a hold's and a permission request's `wait`) hold a connection like a stream: they count against the
// tenant's stream slots, and answer only while the credential that opened them still stands (session 12 red team:
// permission-request waits were uncapped, and a poll opened before its key was revoked still received the decision,
// the approver and the comment).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('long polls', () => {
  let t: TestServer;
  let agentsKey: string;
  let agentId: number;
  beforeAll(async () => {
    t = await startTestServer({ config: { maxStreamsPerTenant: 3 } });
    agentsKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key: agentsKey, body: { name: 'asker', entry_code: 'return 1;' } });
    agentId = agent.body.agent.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const ask = async (key = agentsKey) => {
    const res = await t.request('POST', '/api/sdk/permission-requests', { key, body: { agent_id: agentId, permissions: { max_api_calls_per_run: 50 }, justification: 'more calls' } });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  const hold = async (key: string, sessionId: string) => {
    const res = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'bank-bot', sessionId, toolName: 'transfer', arguments: { amount: 5 }, enforcement: 'step_up', approvedScope: ['other'] } });
    expect(res.body.decision).toBe('STEP_UP');
    return res.body.holdToken as string;
  };

  it('permission-request waits take the tenant\'s stream slots, shared with hold long polls', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => ask()));
    // Three keys (one key may hold only a quarter of the slots, rounded up: 1 of 3 here).
    const waiters = await Promise.all(ids.map(async () => (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token));
    const controller = new AbortController();
    const waits = ids.map((id, i) => fetch(`${t.url}/api/sdk/permission-requests/${id}?wait_ms=20000`, { headers: { authorization: `Bearer ${waiters[i]}` }, signal: controller.signal }).catch(() => undefined));
    // Until all three are waiting, a fourth may still get in; wait for the slots to fill.
    for (let i = 0; i < 100; i += 1) {
      const probe = await fetch(`${t.url}/api/sdk/permission-requests/${ids[0]}?wait_ms=1`, { headers: { authorization: `Bearer ${agentsKey}` } });
      if (probe.status === 429) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const extra = await ask();
    const refused = await fetch(`${t.url}/api/sdk/permission-requests/${extra}?wait_ms=20000`, { headers: { authorization: `Bearer ${agentsKey}` } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    const token = await hold(t.tenantA.adminKey, 'slots');
    expect((await fetch(`${t.url}/v1/enforce/hold/${token}?waitMs=20000`, { headers: { authorization: `Bearer ${t.tenantA.adminKey}` } })).status).toBe(429);
    // Without waiting, no slot is needed; other tenants are not affected.
    expect((await t.request('GET', `/api/sdk/permission-requests/${extra}`, { key: agentsKey })).status).toBe(200);
    const otherHold = await hold(t.tenantB.adminKey, 'other-tenant');
    const other = await fetch(`${t.url}/v1/enforce/hold/${otherHold}?waitMs=10`, { headers: { authorization: `Bearer ${t.tenantB.adminKey}` } });
    expect(other.status).toBe(200);
    controller.abort();
    await Promise.all(waits);
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('one key holds at most a quarter of the tenant\'s stream slots, so it cannot refuse the approvers\' stream', async () => {
    // Session 13 red team: a key restricted to one agent held every slot with waits on its own permission request.
    const id = await ask();
    const controller = new AbortController();
    const first = fetch(`${t.url}/api/sdk/permission-requests/${id}?wait_ms=20000`, { headers: { authorization: `Bearer ${agentsKey}` }, signal: controller.signal }).catch(() => undefined);
    let second: Response | undefined;
    for (let i = 0; i < 100; i += 1) {
      second = await fetch(`${t.url}/api/sdk/permission-requests/${id}?wait_ms=5`, { headers: { authorization: `Bearer ${agentsKey}` } });
      if (second.status === 429) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(second?.status).toBe(429);
    expect(((await second!.json()) as { error: { details: { limit: string } } }).error.details.limit).toBe('streams_per_tenant_per_key');
    // The approvers still get their stream.
    const approvals = await fetch(`${t.url}/api/v1/approvals/stream`, { headers: { authorization: `Bearer ${t.tenantA.adminKey}` }, signal: controller.signal });
    expect(approvals.status).toBe(200);
    controller.abort();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('a hold long poll whose key was revoked while it waited answers 401, not the decision', async () => {
    const { token: enforceKey, record } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'], name: 'agent' });
    const holdToken = await hold(enforceKey, 'revoked-poll');
    const poll = fetch(`${t.url}/v1/enforce/hold/${holdToken}?waitMs=15000`, { headers: { authorization: `Bearer ${enforceKey}` } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await t.request('POST', `/api/v1/keys/${record.id}/revoke`, { key: t.tenantA.adminKey })).status).toBe(200);
    expect((await t.request('POST', `/api/v1/approvals/${holdToken}/approve`, { key: t.tenantA.adminKey, body: { approver: 'alice', comment: 'ok, ticket INC-1234' } })).status).toBe(200);
    const answer = await poll;
    expect(answer.status).toBe(401);
    const text = await answer.text();
    expect(text).toContain('UNAUTHENTICATED');
    expect(text).not.toContain('INC-1234');
    expect(text).not.toContain('alice');
  });

  it('a permission-request wait whose key was revoked while it waited answers 401', async () => {
    const { token, record } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'], name: 'asker-2' });
    const id = await ask(token);
    const poll = fetch(`${t.url}/api/sdk/permission-requests/${id}?wait_ms=15000`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await t.request('POST', `/api/v1/keys/${record.id}/revoke`, { key: t.tenantA.adminKey })).status).toBe(200);
    expect((await t.request('POST', `/api/sdk/permission-requests/${id}/deny`, { key: t.tenantA.adminKey, body: { comment: 'not now, INC-99' } })).status).toBe(200);
    const answer = await poll;
    expect(answer.status).toBe(401);
    expect(await answer.text()).not.toContain('INC-99');
  });

  it('a poll whose key still stands gets the decision', async () => {
    const id = await ask();
    const poll = fetch(`${t.url}/api/sdk/permission-requests/${id}?wait_ms=15000`, { headers: { authorization: `Bearer ${agentsKey}` } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await t.request('POST', `/api/sdk/permission-requests/${id}/approve`, { key: t.tenantA.adminKey, body: {} })).status).toBe(200);
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { status: string }).status).toBe('approved');
  });
});
