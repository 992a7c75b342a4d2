import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

function event(overrides: Record<string, unknown> = {}) {
  return {
    eventId: randomUUID(),
    eventType: 'TOOL_CALL_PRE',
    sourceType: 'SDK',
    agentId: 'agent-1',
    userId: 'alice',
    sessionId: 'sess-1',
    toolName: 'read_file',
    callId: randomUUID(),
    timestamp: new Date().toISOString(),
    redaction: 'full',
    arguments: { path: '/tmp/x' },
    ...overrides,
  };
}

function describeEvents(name: string, postgresUrl: () => string | undefined) {
  describe(name, () => {
    let t: TestServer;
    let writeA: string;
    let readA: string;
    let readB: string;

    beforeAll(async () => {
      t = await startTestServer({ postgresUrl: postgresUrl() });
      writeA = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['events:write'] })).token;
      readA = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] })).token;
      readB = (await t.services.keys.create({ tenantId: t.tenantB.id, scopes: ['audit:read'] })).token;
    });
    afterAll(async () => t?.close());

    const post = (events: unknown[], key = writeA) => t.request('POST', '/v1/events/batch', { key, body: { events } });
    const list = (query: string, key = readA) => t.request('GET', `/api/v1/events?${query}`, { key });

    it('accepts a batch with 202 and stores a re-sent batch exactly once', async () => {
      const batch = [event({ sessionId: 'dedupe' }), event({ sessionId: 'dedupe', eventType: 'TOOL_CALL_POST', outcome: 'success', durationMs: 3, result: 'ok' })];
      expect(await post(batch)).toMatchObject({ status: 202, body: { accepted: 2, duplicates: 0 } });
      expect(await post(batch)).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 2 } });
      expect(await post([batch[0], event({ sessionId: 'dedupe' }), event({ ...batch[0] })])).toMatchObject({ body: { accepted: 1, duplicates: 2 } });
      const stored = await list('sessionId=dedupe');
      expect(stored.status).toBe(200);
      expect(stored.body.events).toHaveLength(3);
      expect(stored.body.events.filter((e: { eventId: string }) => e.eventId === batch[0]!.eventId)).toHaveLength(1);
      const post_ = stored.body.events.find((e: { eventType: string }) => e.eventType === 'TOOL_CALL_POST');
      expect(post_).toMatchObject({ tenantId: t.tenantA.id, outcome: 'success', durationMs: 3, result: 'ok', redaction: 'full' });
    });

    it('stores a timestamp far ahead of the server clock as at most five minutes ahead, so it cannot pin a session on top', async () => {
      const before = Date.now();
      const forged = event({ sessionId: 'from-the-future', timestamp: '2999-01-01T00:00:00.000Z' });
      const slightlyAhead = event({ sessionId: 'slightly-ahead', timestamp: new Date(before + 60_000).toISOString() });
      expect((await post([forged, slightlyAhead])).status).toBe(202);
      const after = Date.now();
      const stored = Date.parse((await list('sessionId=from-the-future')).body.events[0].timestamp as string);
      expect(stored).toBeGreaterThanOrEqual(before + 5 * 60_000);
      expect(stored).toBeLessThanOrEqual(after + 5 * 60_000);
      // Within the allowed skew the claimed time is kept exactly.
      expect((await list('sessionId=slightly-ahead')).body.events[0].timestamp).toBe(slightlyAhead.timestamp);
      const sessions = await t.request('GET', '/api/v1/dashboard/sessions?limit=50', { key: readA });
      expect(sessions.status).toBe(200);
      const listed = (sessions.body.sessions as Array<{ sessionId: string; lastAt: string }>).find((s) => s.sessionId === 'from-the-future');
      expect(Date.parse(listed!.lastAt)).toBeLessThanOrEqual(after + 5 * 60_000);
    });

    it('pages by session and agent, newest first, without gaps or repeats', async () => {
      const base = Date.parse('2026-01-01T00:00:00Z');
      const events = Array.from({ length: 250 }, (_, index) =>
        event({ sessionId: 'paging', agentId: index % 2 === 0 ? 'even' : 'odd', timestamp: new Date(base + Math.floor(index / 3) * 1000).toISOString() }),
      );
      expect((await post(events)).body).toEqual({ accepted: 250, duplicates: 0 });
      const seen: string[] = [];
      let cursor: string | null = null;
      let previous = Number.POSITIVE_INFINITY;
      do {
        const page: Awaited<ReturnType<typeof list>> = await list(`sessionId=paging&limit=40${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        for (const item of page.body.events as { eventId: string; timestamp: string }[]) {
          expect(Date.parse(item.timestamp)).toBeLessThanOrEqual(previous);
          previous = Date.parse(item.timestamp);
          seen.push(item.eventId);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(250);
      expect(new Set(seen).size).toBe(250);
      const odd = await list('sessionId=paging&agentId=odd&limit=1000');
      expect(odd.body.events).toHaveLength(125);
      expect(odd.body.nextCursor).toBeNull();
    });

    it('keeps tenants apart: another tenant sees nothing and may reuse the same event id', async () => {
      const shared = event({ sessionId: 'isolation' });
      await post([shared]);
      expect((await list('sessionId=isolation', readB)).body.events).toEqual([]);
      const writeB = (await t.services.keys.create({ tenantId: t.tenantB.id, scopes: ['events:write'] })).token;
      expect((await post([shared], writeB)).body).toEqual({ accepted: 1, duplicates: 0 });
      expect((await list('sessionId=isolation', readB)).body.events).toHaveLength(1);
      expect((await list('sessionId=isolation')).body.events).toHaveLength(1);
    });

    it('masks secrets in stored arguments, results and errors', async () => {
      const awsKey = 'AKIA' + 'Z7Q2MNXL4PWR6TYB';
      await post([event({ sessionId: 'secrets', arguments: { env: `aws_key=${awsKey}` }, result: [`key ${awsKey}`], error: `failed with ${awsKey}` })]);
      const [stored] = (await list('sessionId=secrets')).body.events;
      expect(JSON.stringify(stored)).not.toContain(awsKey);
      expect(stored.arguments.env).toContain('[REDACTED:');
      expect(stored.error).toContain('[REDACTED:');
    });

    it('refuses a tenantId that is not the key’s tenant', async () => {
      const answer = await post([event({ tenantId: t.tenantB.id })]);
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe('TENANT_MISMATCH');
    });

    it.each([
      ['a missing field', [{ ...event(), agentId: undefined }]],
      ['an unknown field', [{ ...event(), extra: 1 }]],
      ['a bad event type', [event({ eventType: 'NOPE' })]],
      ['a bad timestamp', [event({ timestamp: 'yesterday' })]],
      ['more than 1000 events', Array.from({ length: 1001 }, () => event())],
    ])('answers 400 with a code for %s', async (_name, events) => {
      const answer = await post(JSON.parse(JSON.stringify(events)) as unknown[]);
      expect(answer.status).toBe(400);
      expect(typeof answer.body.error.code).toBe('string');
    });

    it('answers 400 for a forged cursor and 403 without the right scope', async () => {
      expect((await list('cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
      expect((await post([event()], readA)).status).toBe(403);
      expect((await list('sessionId=x', writeA)).status).toBe(403);
    });
  });
}

describeEvents('events API on SQLite', () => undefined);
const pgUrl = postgresTestUrl('events API');
describe.skipIf(!pgUrl)('PostgreSQL', () => describeEvents('events API on PostgreSQL', () => pgUrl));
