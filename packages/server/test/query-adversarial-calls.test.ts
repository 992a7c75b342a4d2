import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

/** The dashboard's calls view joins events with their PRE event and their decision; these joins must not lie. */

function event(overrides: Record<string, unknown>) {
  return {
    eventId: randomUUID(),
    eventType: 'TOOL_CALL_POST',
    sourceType: 'SDK',
    agentId: 'agent-c',
    userId: 'alice',
    toolName: 'read_file',
    outcome: 'success',
    redaction: 'none',
    ...overrides,
  };
}

function describeCalls(name: string, postgresUrl: () => string | undefined) {
  describe(name, () => {
    let t: TestServer;
    let writeA: string;
    let readA: string;

    beforeAll(async () => {
      t = await startTestServer({ postgresUrl: postgresUrl() });
      writeA = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['events:write'] })).token;
      readA = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] })).token;
    });
    afterAll(async () => t?.close());

    const post = (events: unknown[]) => t.request('POST', '/v1/events/batch', { key: writeA, body: { events } });

    it('shows a call the arguments of its own PRE event, not those of a same-callId call in another session', async () => {
      // Broke: PRE arguments were matched by call id alone, so session pre-a showed session pre-b's arguments.
      const callId = 'call-1';
      const at = (ms: number) => new Date(Date.parse('2026-03-01T00:00:00Z') + ms).toISOString();
      await post([
        event({ sessionId: 'pre-a', callId, eventType: 'TOOL_CALL_PRE', outcome: undefined, arguments: { path: '/a' }, timestamp: at(0) }),
        event({ sessionId: 'pre-a', callId, timestamp: at(10) }),
        event({ sessionId: 'pre-b', callId, eventType: 'TOOL_CALL_PRE', outcome: undefined, arguments: { path: '/b' }, timestamp: at(1) }),
        event({ sessionId: 'pre-b', callId, timestamp: at(11) }),
      ].map((e) => JSON.parse(JSON.stringify(e)) as unknown));
      const calls = await t.request('GET', '/api/v1/dashboard/calls?agentId=agent-c&limit=200', { key: readA });
      const bySession = Object.fromEntries((calls.body.calls as { sessionId: string; callId: string; arguments: unknown }[])
        .filter((c) => c.callId === callId).map((c) => [c.sessionId, c.arguments]));
      expect(bySession).toEqual({ 'pre-a': { path: '/a' }, 'pre-b': { path: '/b' } });
    });

    it("does not show another tenant's decision for an event that names its decision id", async () => {
      await t.store.db.insertInto('decisions').values({
        id: 'dec-of-b', tenant_id: t.tenantB.id, ts: Date.now(), agent_id: 'b', user_id: 'b', session_id: 'b', tool_name: 'x', call_id: null,
        requested_mode: 'block', mode: 'block', decision: 'BLOCK', verdict: 'BLOCK', would_have_been: null, reason: 'secret reason of tenant B',
        violation_id: 'vio-of-b', severity: 'high', hold_id: null, policy_id: null, policy_version: null, matched_rules: '[]', shadow: '[]',
        errors: '[]', arguments: null, approved_scope: null, context: '{}',
      } as never).execute();
      await post([event({ sessionId: 'foreign-decision', callId: 'c', decisionId: 'dec-of-b', timestamp: new Date().toISOString() })]);
      const calls = await t.request('GET', '/api/v1/dashboard/calls?sessionId=foreign-decision', { key: readA });
      expect(calls.body.calls).toHaveLength(1);
      expect(calls.body.calls[0]).toMatchObject({ decisionId: 'dec-of-b', decision: null, reason: null, violationId: null });
    });
  });
}

describeCalls('dashboard calls joins on SQLite', () => undefined);
const pgUrl = postgresTestUrl('dashboard calls joins');
describe.skipIf(!pgUrl)('PostgreSQL', () => describeCalls('dashboard calls joins on PostgreSQL', () => pgUrl));
