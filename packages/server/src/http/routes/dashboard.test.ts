import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../../../test-utils/index.js';

const pgUrl = postgresTestUrl('dashboard views');
const DIALECTS = [{ name: 'SQLite', postgresUrl: undefined }, ...(pgUrl ? [{ name: 'PostgreSQL', postgresUrl: pgUrl }] : [])];

const POLICY = `
name: dashboard-views
agents: { "*": { approvedScope: ["*"] } }
rules:
  - { id: never-delete, match: { tools: [delete_file] }, effect: BLOCK, reason: never delete }
`;

describe.each(DIALECTS)('read-only dashboard views on $name', ({ postgresUrl }) => {
  let t: TestServer;
  let decisionIds: string[];
  beforeAll(async () => {
    t = await startTestServer({ postgresUrl });
    expect((await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'views', source: POLICY, activate: true } })).status).toBe(201);
    decisionIds = [];
    for (const [toolName, args] of [['web_search', { q: 'a' }], ['delete_file', { path: '/x' }], ['web_search', { q: 'b' }]] as const) {
      const decision = await t.services.enforcement.enforce(t.tenantA.id, { agentId: 'bot', sessionId: 's-1', toolName, arguments: args });
      decisionIds.push(decision.decisionId);
    }
    const now = Date.now();
    const base = { tenantId: t.tenantA.id, sourceType: 'SDK', agentId: 'bot', userId: 'u', sessionId: 's-1', receivedAt: now, redaction: 'full', error: null, result: undefined };
    await t.store.events.insertMany(t.tenantA.id, [
      { ...base, eventId: 'e1', eventType: 'TOOL_CALL_PRE', toolName: 'delete_file', callId: 'c1', decisionId: null, ts: now - 20, durationMs: null, outcome: null, arguments: { path: '/x' } },
      { ...base, eventId: 'e2', eventType: 'TOOL_CALL_POST', toolName: 'delete_file', callId: 'c1', decisionId: decisionIds[1]!, ts: now - 10, durationMs: 10, outcome: 'blocked', arguments: undefined },
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts calls, decisions and violations per tenant', async () => {
    const mine = await t.request('GET', '/api/v1/dashboard/overview?hours=1', { key: t.tenantA.adminKey });
    expect(mine.status).toBe(200);
    expect(mine.body.totals).toEqual({ calls: 3, allow: 2, block: 1, stepUp: 0, violations: 1 });
    expect(mine.body.buckets).toHaveLength(24);
    const theirs = await t.request('GET', '/api/v1/dashboard/overview?hours=1', { key: t.tenantB.adminKey });
    expect(theirs.body.totals.calls).toBe(0);
  });

  it('joins a completed call with its PRE-event arguments and its decision', async () => {
    const calls = await t.request('GET', '/api/v1/dashboard/calls?sessionId=s-1', { key: t.tenantA.adminKey });
    expect(calls.body.calls).toEqual([
      expect.objectContaining({ callId: 'c1', toolName: 'delete_file', decision: 'BLOCK', reason: expect.stringContaining('never delete'), outcome: 'blocked', arguments: { path: '/x' }, durationMs: 10 }),
    ]);
    const sessions = await t.request('GET', '/api/v1/dashboard/sessions', { key: t.tenantA.adminKey });
    expect(sessions.body.sessions).toEqual([expect.objectContaining({ sessionId: 's-1', agentId: 'bot', calls: 1, blocked: 1 })]);
    const otherTenant = await t.request('GET', '/api/v1/dashboard/calls?sessionId=s-1', { key: t.tenantB.adminKey });
    expect(otherTenant.body.calls).toEqual([]);
  });

  it('lists violations with context and finds their ledger record', async () => {
    const list = await t.request('GET', '/api/v1/dashboard/violations?agentId=bot', { key: t.tenantA.adminKey });
    expect(list.body.violations).toHaveLength(1);
    const violation = list.body.violations[0];
    expect(violation).toMatchObject({ toolName: 'delete_file', arguments: { path: '/x' }, matchedRules: ['never-delete'] });
    const ledger = await t.request('GET', `/api/v1/dashboard/violations/${violation.id}/ledger`, { key: t.tenantA.adminKey });
    expect(ledger.status).toBe(200);
    const verify = await t.request('GET', `/api/v1/audit/records/${ledger.body.index}/verify`, { key: t.tenantA.adminKey });
    expect(verify.body.verified).toBe(true);
    expect((await t.request('GET', `/api/v1/dashboard/violations/${violation.id}/ledger`, { key: t.tenantB.adminKey })).status).toBe(404);
  });

  it('refuses forged cursors and bad dates with 400, and needs audit:read', async () => {
    for (const path of ['/api/v1/dashboard/calls?cursor=WzEsIngiXQ', '/api/v1/dashboard/sessions?cursor=%7B', '/api/v1/dashboard/violations?from=yesterday']) {
      const response = await t.request('GET', path, { key: t.tenantA.adminKey });
      expect(response.status, path).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
    }
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] });
    expect((await t.request('GET', '/api/v1/dashboard/calls', { key: token })).status).toBe(403);
  });
});
