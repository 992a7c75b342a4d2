import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Regression: session summaries were keyed by (tenant, session), so an `events:write` key restricted to agent Z,
// sending events with agent A's session id, rewrote A's summary (agent and user became the larger of both, Z's
// counts were added) and hid the session from A's filtered list. Summaries are per agent now.

type Session = { sessionId: string; agentId: string; userId: string; calls: number; blocked: number };

function event(agentId: string, userId: string, sessionId: string, timestamp: string, outcome: 'success' | 'blocked' = 'success') {
  return {
    eventId: randomUUID(), eventType: 'TOOL_CALL_POST', sourceType: 'SDK', agentId, userId, sessionId, toolName: 'read_customer',
    callId: randomUUID(), timestamp, redaction: 'full', outcome,
  };
}

function suite(name: string, postgresUrl: string | undefined) {
  describe(`session summaries per agent on ${name}`, () => {
    let t: TestServer;
    let alphaKey: string;
    let zetaKey: string;
    let auditor: string;
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl });
      const key = async (scopes: string[], agentIds?: string[]) => {
        const created = await t.request('POST', '/api/v1/keys', { key: t.tenantA.adminKey, body: { scopes, name: 'k', ...(agentIds ? { agentIds } : {}) } });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        return created.body.secret as string;
      };
      alphaKey = await key(['events:write'], ['alpha-support']);
      zetaKey = await key(['events:write'], ['zeta-crawler']);
      auditor = await key(['audit:read']);
    });
    afterAll(async () => {
      await t?.close();
    });

    const post = (key: string, events: unknown[]) => t.request('POST', '/v1/events/batch', { key, body: { events } });
    const sessions = async (query: string): Promise<{ sessions: Session[]; nextCursor: string | null }> => {
      const listed = await t.request('GET', `/api/v1/dashboard/sessions?${query}`, { key: auditor });
      expect(listed.status, JSON.stringify(listed.body)).toBe(200);
      return listed.body;
    };

    it("another agent's events naming the same session id leave the first agent's summary as it was", async () => {
      const session = `conv-${randomUUID()}`;
      const at = new Date().toISOString();
      expect((await post(alphaKey, [event('alpha-support', 'alice@acme.example', session, at), event('alpha-support', 'alice@acme.example', session, at)])).status).toBe(202);
      const before = (await sessions('limit=100')).sessions.filter((s) => s.sessionId === session);
      expect(before).toEqual([expect.objectContaining({ agentId: 'alpha-support', userId: 'alice@acme.example', calls: 2, blocked: 0 })]);

      // Zeta's key may write zeta-crawler's events only, but it can name any session id (ids are the SDK's).
      const forged = Array.from({ length: 50 }, () => event('zeta-crawler', 'zz-mallory', session, at, 'blocked'));
      expect((await post(zetaKey, forged)).status).toBe(202);
      // Alpha's key still cannot write zeta's events, nor zeta's alpha's (the key restriction, unchanged).
      expect((await post(zetaKey, [event('alpha-support', 'zz-mallory', session, at)])).status).toBe(403);

      const alphaOnly = (await sessions('limit=100&agentId=alpha-support')).sessions.filter((s) => s.sessionId === session);
      expect(alphaOnly).toEqual([expect.objectContaining({ agentId: 'alpha-support', userId: 'alice@acme.example', calls: 2, blocked: 0 })]);
      const all = (await sessions('limit=100')).sessions.filter((s) => s.sessionId === session);
      expect(all).toEqual([
        expect.objectContaining({ agentId: 'zeta-crawler', userId: 'zz-mallory', calls: 50, blocked: 50 }),
        expect.objectContaining({ agentId: 'alpha-support', userId: 'alice@acme.example', calls: 2, blocked: 0 }),
      ]);
    });

    it('pages through a session of two agents with the same last activity one row at a time, without skipping one', async () => {
      const tenant = await t.createTenant(`paging-${name.toLowerCase()}`);
      const at = new Date().toISOString();
      await t.services.events.ingest(tenant.id, [event('agent-a', 'u', 'shared', at), event('agent-b', 'u', 'shared', at), event('agent-a', 'u', 'older', new Date(Date.now() - 60_000).toISOString())]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const listed = await t.request('GET', `/api/v1/dashboard/sessions?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { key: tenant.adminKey });
        expect(listed.status).toBe(200);
        seen.push(...(listed.body.sessions as Session[]).map((s) => `${s.sessionId}/${s.agentId}`));
        cursor = listed.body.nextCursor as string | null;
      } while (cursor !== null && seen.length < 10);
      expect(seen).toEqual(['shared/agent-b', 'shared/agent-a', 'older/agent-a']);
      // A cursor issued before summaries were per agent ([lastTs, sessionId]) still works: after every agent of it.
      const legacy = Buffer.from(JSON.stringify([Date.parse(at), 'shared'])).toString('base64url');
      const after = await t.request('GET', `/api/v1/dashboard/sessions?cursor=${legacy}`, { key: tenant.adminKey });
      expect((after.body.sessions as Session[]).map((s) => `${s.sessionId}/${s.agentId}`)).toEqual(['older/agent-a']);
    });

    it("retention removes one agent's old summary of a session, not another agent's recent one", async () => {
      const tenant = await t.createTenant(`retention-${name.toLowerCase()}`);
      const now = Date.now();
      await t.services.events.ingest(tenant.id, [
        event('agent-old', 'u', 'shared', new Date(now - 10 * 86_400_000).toISOString()),
        event('agent-new', 'u', 'shared', new Date(now).toISOString()),
      ]);
      expect(await t.store.retention.deleteBefore('event_sessions', tenant.id, now - 86_400_000, 100)).toBe(1);
      const left = await t.store.events.sessions(tenant.id, { limit: 10 });
      expect(left.map((row) => [row.session_id, row.agent_id])).toEqual([['shared', 'agent-new']]);
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('event session agents');
if (pgUrl) suite('PostgreSQL', pgUrl);
