import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

/**
 * Adversarial tests of the query and ingestion paths: events batch, events listing, dashboard views and audit
 * filters, attacked with one tenant's ordinary keys (events:write, audit:read, agents) on both dialects.
 */

function event(overrides: Record<string, unknown> = {}) {
  return {
    eventId: randomUUID(),
    eventType: 'TOOL_CALL_POST',
    sourceType: 'SDK',
    agentId: 'agent-q',
    userId: 'alice',
    sessionId: 'sess-q',
    toolName: 'read_file',
    callId: randomUUID(),
    timestamp: new Date().toISOString(),
    outcome: 'success',
    redaction: 'none',
    ...overrides,
  };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

type Answer = Awaited<ReturnType<TestServer['request']>>;

function describeQueries(name: string, postgresUrl: () => string | undefined) {
  describe(name, () => {
    let t: TestServer;
    let writeA: string;
    let readA: string;
    let agentsA: string;
    let writeB: string;
    let readB: string;

    beforeAll(async () => {
      t = await startTestServer({ postgresUrl: postgresUrl() });
      const key = async (tenantId: string, scopes: string[]) => (await t.services.keys.create({ tenantId, scopes: scopes as never })).token;
      writeA = await key(t.tenantA.id, ['events:write']);
      readA = await key(t.tenantA.id, ['audit:read']);
      agentsA = await key(t.tenantA.id, ['agents']);
      writeB = await key(t.tenantB.id, ['events:write']);
      readB = await key(t.tenantB.id, ['audit:read']);
    });
    afterAll(async () => t?.close());

    const post = (events: unknown[], key = writeA) => t.request('POST', '/v1/events/batch', { key, body: { events } });
    const get = (path: string, key = readA) => t.request('GET', path, { key });

    /** Follows nextCursor to the end; every page must be a 200. */
    async function pageAll(path: string, field: string, idOf: (row: any) => string, key = readA): Promise<string[]> {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 500; pages += 1) {
        const separator = path.includes('?') ? '&' : '?';
        const answer: Answer = await get(`${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ''}`, key);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        seen.push(...(answer.body[field] as any[]).map(idOf));
        cursor = answer.body.nextCursor;
        if (!cursor) return seen;
      }
      throw new Error('pagination did not end');
    }

    it('pages through 60 events sharing one timestamp (limit 7) without gaps or repeats, in events and calls', async () => {
      const ts = '2026-02-01T00:00:00.000Z';
      const batch = Array.from({ length: 60 }, () => event({ sessionId: 'ties', timestamp: ts }));
      expect((await post(batch)).body).toEqual({ accepted: 60, duplicates: 0 });
      const events = await pageAll('/api/v1/events?sessionId=ties&limit=7', 'events', (row) => row.eventId);
      expect(events.sort()).toEqual(batch.map((e) => e.eventId).sort());
      const calls = await pageAll('/api/v1/dashboard/calls?sessionId=ties&limit=7', 'calls', (row) => row.callId);
      expect(calls.sort()).toEqual(batch.map((e) => e.callId).sort());
    });

    it('pages through events timestamped before 1970: every cursor the server issues is accepted', async () => {
      const batch = Array.from({ length: 5 }, (_, index) => event({ sessionId: 'pre-epoch', timestamp: new Date(Date.UTC(1960, 0, 1 + index)).toISOString() }));
      expect((await post(batch)).body).toEqual({ accepted: 5, duplicates: 0 });
      const events = await pageAll('/api/v1/events?sessionId=pre-epoch&limit=2', 'events', (row) => row.eventId);
      expect(events.sort()).toEqual(batch.map((e) => e.eventId).sort());
      const calls = await pageAll('/api/v1/dashboard/calls?sessionId=pre-epoch&limit=2', 'calls', (row) => row.callId);
      expect(calls).toHaveLength(5);
    });

    it('stores an event id once when it repeats inside one batch, and lets another tenant reuse it', async () => {
      const shared = event({ sessionId: 'dup-in-batch' });
      expect((await post([shared, { ...shared }, { ...shared, toolName: 'other' }])).body).toEqual({ accepted: 1, duplicates: 2 });
      expect((await post([shared], writeB)).body).toEqual({ accepted: 1, duplicates: 0 });
      const a = await get('/api/v1/events?sessionId=dup-in-batch');
      expect(a.body.events).toHaveLength(1);
      expect(a.body.events[0].toolName).toBe('read_file');
      const b = await get('/api/v1/events?sessionId=dup-in-batch', readB);
      expect(b.body.events).toHaveLength(1);
      expect(b.body.events[0].tenantId).toBe(t.tenantB.id);
    });

    it('matches filter values literally: %, _, backslash and quotes are not patterns', async () => {
      const odd = ["a%", 'a_', 'a\\', "a'--", 'a"', '%', '_'];
      await post(odd.map((sessionId) => event({ sessionId, agentId: sessionId, toolName: sessionId })));
      await post([event({ sessionId: 'ab', agentId: 'ab', toolName: 'ab' })]);
      for (const value of odd) {
        const q = encodeURIComponent(value);
        const events = await get(`/api/v1/events?sessionId=${q}&agentId=${q}`);
        expect(events.status).toBe(200);
        expect(events.body.events.map((e: { sessionId: string }) => e.sessionId)).toEqual([value]);
        const calls = await get(`/api/v1/dashboard/calls?toolName=${q}&agentId=${q}`);
        expect(calls.body.calls.map((c: { toolName: string }) => c.toolName)).toEqual([value]);
        const sessions = await get(`/api/v1/dashboard/sessions?agentId=${q}`);
        expect(sessions.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([value]);
      }
    });

    it.each([
      ['events: 16 nines', '/api/v1/events?cursor=' + b64('9999999999999999.9999999999999999')],
      ['events: zero', '/api/v1/events?cursor=' + b64('0.0')],
      ['calls: largest safe integers', '/api/v1/dashboard/calls?cursor=' + b64([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])],
      ['calls: smallest safe integers', '/api/v1/dashboard/calls?cursor=' + b64([-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])],
      ['violations: largest safe integers', '/api/v1/dashboard/violations?cursor=' + b64([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])],
      ['sessions: huge ts, long id', '/api/v1/dashboard/sessions?cursor=' + b64([Number.MAX_SAFE_INTEGER, "x'); DROP TABLE events;--"])],
      ['audit records: 16 nines', '/api/v1/audit/records?cursor=9999999999999999'],
    ])('answers a forged but well-formed cursor (%s) with 200, never a 500', async (_name, path) => {
      const answer = await get(path);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    });

    it.each([
      ['events: garbage', '/api/v1/events?cursor=%%%%'],
      ['events: negative seq', '/api/v1/events?cursor=' + b64('1.-1x')],
      ['events: exponent', '/api/v1/events?cursor=' + b64('1e20.1')],
      ['calls: beyond safe integers', '/api/v1/dashboard/calls?cursor=' + b64([1e300, 1])],
      ['calls: strings', '/api/v1/dashboard/calls?cursor=' + b64(['1', '2'])],
      ['calls: tenant smuggled', '/api/v1/dashboard/calls?cursor=' + b64([1, 2, 'tenant-b'])],
      ['violations: object', '/api/v1/dashboard/violations?cursor=' + b64({ ts: 1, seq: 1, tenantId: 'tenant-b' })],
      ['sessions: number id', '/api/v1/dashboard/sessions?cursor=' + b64([1, 2])],
      ['sessions: NaN', '/api/v1/dashboard/sessions?cursor=' + b64('[NaN,"x"]')],
      ['audit: negative', '/api/v1/audit/records?cursor=-1'],
      ['audit: 17 digits', '/api/v1/audit/records?cursor=12345678901234567'],
    ])('refuses a forged cursor (%s) with 400 VALIDATION_FAILED', async (_name, path) => {
      const answer = await get(path);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    });

    it("never shows another tenant's rows through a cursor issued to that tenant", async () => {
      await post(Array.from({ length: 3 }, () => event({ sessionId: 'b-only' })), writeB);
      const first = await get('/api/v1/events?sessionId=b-only&limit=1', readB);
      expect(first.body.nextCursor).toBeTruthy();
      const replay = await get(`/api/v1/events?sessionId=b-only&cursor=${first.body.nextCursor}`);
      expect(replay.status).toBe(200);
      expect(replay.body.events).toEqual([]);
      const calls = await get('/api/v1/dashboard/calls?sessionId=b-only&limit=1', readB);
      const replayCalls = await get(`/api/v1/dashboard/calls?cursor=${calls.body.nextCursor}`);
      expect(replayCalls.body.calls.every((c: { sessionId: string }) => c.sessionId !== 'b-only')).toBe(true);
    });

    it.each([
      ['hours=0', '/api/v1/dashboard/overview?hours=0'],
      ['hours=-1', '/api/v1/dashboard/overview?hours=-1'],
      ['hours=NaN', '/api/v1/dashboard/overview?hours=NaN'],
      ['hours=100 years', `/api/v1/dashboard/overview?hours=${24 * 365 * 100}`],
      ['hours=1e9', '/api/v1/dashboard/overview?hours=1e9'],
      ['hours=0.001', '/api/v1/dashboard/overview?hours=0.001'],
      ['limit=0', '/api/v1/dashboard/calls?limit=0'],
      ['limit=-5', '/api/v1/dashboard/sessions?limit=-5'],
      ['limit=NaN', '/api/v1/events?limit=NaN'],
      ['limit=1e6', '/api/v1/dashboard/violations?limit=1000000'],
      ['unknown sort column', '/api/v1/events?orderBy=tenant_id'],
      ['violations from=garbage', '/api/v1/dashboard/violations?from=yesterday'],
      ['violations from=1 (not ISO, V8 reads it as 2001)', '/api/v1/dashboard/violations?from=1'],
      ['violations to=May 5 (not ISO)', '/api/v1/dashboard/violations?to=May%205'],
      ['audit to=garbage', '/api/v1/audit/records?to=2024-13-45'],
      ['long filter', `/api/v1/events?sessionId=${'x'.repeat(5000)}`],
    ])('refuses %s with 400, never a 500', async (_name, path) => {
      const answer = await get(path);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    });

    it('builds 24 buckets for the longest window and ignores a decision-free tenant', async () => {
      const answer = await get(`/api/v1/dashboard/overview?hours=${24 * 31}`);
      expect(answer.status).toBe(200);
      expect(answer.body.buckets).toHaveLength(24);
    });

    it('accepts far-past and far-future timestamps without breaking listings of the recent window', async () => {
      const answer = await post([
        event({ sessionId: 'far', timestamp: '9999-12-31T23:59:59.999Z' }),
        event({ sessionId: 'far', timestamp: '0001-01-01T00:00:00.000Z' }),
      ]);
      expect(answer.status).toBe(202);
      const sessions = await pageAll('/api/v1/dashboard/sessions?limit=3', 'sessions', (row) => row.sessionId);
      expect(new Set(sessions).size).toBe(sessions.length);
      expect(sessions).toContain('far');
      expect((await get('/api/v1/dashboard/overview')).status).toBe(200);
    });

    it("refuses huge integer ids in paths with 400 or 404, never a 500 (agents key)", async () => {
      for (const path of ['/api/v1/sdk/agents/99999999999999999999/executions', '/api/v1/sdk/agents/9223372036854775808', '/api/v1/sdk/agents/1/executions/99999999999999999999', '/api/v1/sdk/executions/9223372036854775808/verify']) {
        const answer = await get(path, agentsA);
        expect([400, 404], `${path}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
      }
      const page = await get('/api/v1/sdk/agents/1/executions?page=1000000&limit=500', agentsA);
      expect([200, 404]).toContain(page.status);
    });

    it('pages through 30 violations sharing one timestamp (limit 4) without gaps or repeats', async () => {
      const ts = Date.parse('2026-04-01T00:00:00Z');
      const ids = Array.from({ length: 30 }, (_, index) => `vio-tie-${index}`);
      await t.store.db.insertInto('violations').values(ids.map((id) => ({
        id, tenant_id: t.tenantA.id, decision_id: `dec-${id}`, ts, agent_id: 'tie-agent', user_id: 'u', session_id: 's', tool_name: 'x',
        decision: 'BLOCK', severity: 'high', reason: 'r', rule_ids: '[]',
      }))).execute();
      const seen = await pageAll('/api/v1/dashboard/violations?agentId=tie-agent&limit=4', 'violations', (row) => row.id);
      expect(seen.sort()).toEqual([...ids].sort());
      expect((await get('/api/v1/dashboard/violations?agentId=tie-agent', readB)).body.violations).toEqual([]);
    });
  });
}

describeQueries('query and ingestion attacks on SQLite', () => undefined);
const pgUrl = postgresTestUrl('query and ingestion attacks');
describe.skipIf(!pgUrl)('PostgreSQL', () => describeQueries('query and ingestion attacks on PostgreSQL', () => pgUrl));
