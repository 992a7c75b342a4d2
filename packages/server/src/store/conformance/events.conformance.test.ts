import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeStoreConformance } from '../../../../../test-utils/index.js';
import type { NewEvent } from '../repositories/events.js';

function event(tenantId: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    tenantId, eventId: randomUUID(), eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'agent', userId: 'user', sessionId: 'session',
    toolName: 'read_file', callId: randomUUID(), decisionId: null, ts: 1_000, receivedAt: 2_000, durationMs: null, outcome: null,
    redaction: 'full', arguments: { path: '/tmp/a' }, result: undefined, error: null, ...overrides,
  };
}

describeStoreConformance('events', (getStore) => {
  it('stores each (tenant, eventId) once and counts only new rows, also within one batch', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'ev-a', name: 'a', createdAt: 1 });
    await store.tenants.create({ id: 'ev-b', name: 'b', createdAt: 1 });
    const first = event('ev-a', { durationMs: 1.5, outcome: 'success', result: ['x', 1], decisionId: 'dec_1', error: 'boom' });
    expect(await store.events.insertMany('ev-a', [first, event('ev-a')])).toBe(2);
    expect(await store.events.insertMany('ev-a', [first, { ...first }, event('ev-a')])).toBe(1);
    expect(await store.events.insertMany('ev-b', [first])).toBe(1);
    expect(await store.events.countById('ev-a', first.eventId)).toBe(1);
    const [stored] = (await store.events.page('ev-a', { limit: 10 })).filter((row) => row.eventId === first.eventId);
    expect(stored).toMatchObject({ ...first, seq: expect.any(Number) });
  });

  it('keeps one summary per session as events arrive: counts stored events once, first and last times, newest first', async () => {
    const store = getStore();
    for (const id of ['sum-a', 'sum-b']) await store.tenants.create({ id, name: id, createdAt: 1 });
    const post = (sessionId: string, ts: number, outcome: NewEvent['outcome'] = 'success', agentId = 'bot') =>
      event('sum-a', { eventType: 'TOOL_CALL_POST', sessionId, ts, outcome, agentId });
    const resent = post('s1', 500);
    await store.events.insertMany('sum-a', [event('sum-a', { sessionId: 's1', ts: 100, agentId: 'bot' }), post('s1', 200, 'blocked'), resent, post('s2', 300), post('s3', 400, 'success', 'other')]);
    // A second batch: a re-sent event (not counted again), a later and an earlier event of s1, a new session.
    await store.events.insertMany('sum-a', [resent, post('s1', 900), post('s1', 50, 'blocked'), post('s4', 400)]);
    await store.events.insertMany('sum-b', [post('s1', 10_000)]);
    const sessions = await store.events.sessions('sum-a', { limit: 10 });
    expect(sessions.map((row) => [row.session_id, row.calls, row.blocked, row.first_ts, row.last_ts])).toEqual([
      ['s1', 4, 2, 50, 900],
      ['s4', 1, 0, 400, 400],
      ['s3', 1, 0, 400, 400],
      ['s2', 1, 0, 300, 300],
    ]);
    // Keyset pages: (last time, session id) descending, ties broken by session id.
    const first = await store.events.sessions('sum-a', { limit: 2 });
    const rest = await store.events.sessions('sum-a', { limit: 10, after: { lastTs: first[1]!.last_ts, sessionId: first[1]!.session_id } });
    expect([...first, ...rest].map((row) => row.session_id)).toEqual(['s1', 's4', 's3', 's2']);
    expect((await store.events.sessions('sum-a', { agentId: 'other', limit: 10 })).map((row) => row.session_id)).toEqual(['s3']);
    expect((await store.events.sessions('sum-b', { limit: 10 })).map((row) => [row.session_id, row.last_ts])).toEqual([['s1', 10_000]]);
  });

  it('pages newest first by (ts, seq) with filters, and never across tenants', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'pg-a', name: 'a', createdAt: 1 });
    await store.tenants.create({ id: 'pg-b', name: 'b', createdAt: 1 });
    const rows = Array.from({ length: 30 }, (_, index) => event('pg-a', { ts: 10_000 + Math.floor(index / 4), agentId: index % 3 === 0 ? 'three' : 'other', sessionId: index % 2 ? 'odd' : 'even' }));
    await store.events.insertMany('pg-a', rows);
    await store.events.insertMany('pg-b', [event('pg-b', { ts: 99_999 })]);
    const seen: string[] = [];
    let before: { ts: number; seq: number } | undefined;
    for (;;) {
      const page = await store.events.page('pg-a', { limit: 7, before });
      if (page.length === 0) break;
      for (const row of page) {
        if (before) expect(row.ts < before.ts || (row.ts === before.ts && row.seq < before.seq)).toBe(true);
        before = { ts: row.ts, seq: row.seq };
        seen.push(row.eventId);
      }
    }
    expect(new Set(seen)).toEqual(new Set(rows.map((row) => row.eventId)));
    expect(await store.events.page('pg-a', { limit: 100, agentId: 'three' })).toHaveLength(10);
    expect(await store.events.page('pg-a', { limit: 100, sessionId: 'odd', agentId: 'three' })).toHaveLength(5);
    expect((await store.events.page('pg-b', { limit: 100 })).map((row) => row.tenantId)).toEqual(['pg-b']);
  });
});
