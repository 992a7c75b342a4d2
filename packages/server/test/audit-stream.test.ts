import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer } from '../../../test-utils/index.js';
import type { TestServer } from '../../../test-utils/index.js';

interface SseEvent {
  type: string;
  id: string | undefined;
  data: any;
}

/** A minimal SSE reader over fetch, so the test sees exactly what a client receives. */
function openStream(t: TestServer, query: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  const done = (async () => {
    const response = await fetch(`${t.url}/api/sdk/audit/stream${query}`, { headers: { authorization: `Bearer ${t.tenantA.adminKey}`, ...headers }, signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
          events.push({ type: fields.event ?? 'message', id: fields.id, data: JSON.parse(fields.data ?? 'null') });
          waiters.splice(0).forEach((wake) => wake());
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      ended = true;
      waiters.splice(0).forEach((wake) => wake());
    }
  })();
  const until = async (predicate: (events: SseEvent[]) => boolean, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(events)) {
      if (ended || Date.now() > deadline) throw new Error(`stream condition not met; got ${events.map((e) => e.type).join(',')}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return events;
  };
  const audits = () => events.filter((e) => e.type === 'audit');
  return { events, audits, until, close: () => controller.abort(), done, isEnded: () => ended };
}

function streamSuite(name: string, postgresUrl: string | undefined) {
  describe(`live audit stream (SSE) on ${name}`, () => {
    let t: TestServer;
    const append = (n: number, extra: Record<string, unknown> = {}) =>
      t.services.ledger.append(t.tenantA.id, { type: 'sandbox.host_call', agentId: 'agent-1', executionId: 'exec-1', data: { n, description: `call ${n}` }, ...extra });

    beforeAll(async () => {
      t = await startTestServer({ postgresUrl, config: { auditStreamKeepaliveMs: 100, auditStreamTimeoutMs: 1_500 } });
    });
    afterAll(async () => t?.close());

    it('sends connected, then each new record as an audit event whose id is its ledger index', async () => {
      const stream = openStream(t, '?agentId=agent-1');
      await stream.until((e) => e.some((x) => x.type === 'connected'));
      expect(stream.events[0]?.type).toBe('connected');
      const appended = await Promise.all([append(1), t.services.ledger.append(t.tenantA.id, { type: 'x.other', agentId: 'agent-2', data: {} }), append(2)]);
      await stream.until(() => stream.audits().length >= 2);
      expect(stream.audits().map((e) => e.data.data.n)).toEqual([1, 2]);
      expect(stream.audits().map((e) => Number(e.id))).toEqual([appended[0].index, appended[2].index]);
      expect(stream.audits()[0]?.data).toMatchObject({ action_type: 'sandbox.host_call', action_category: 'sandbox', description: 'call 1', is_violation: false });
      stream.close();
    });

    it('resumes after Last-Event-ID with no gap and no duplicate', async () => {
      const first = openStream(t, '?executionId=exec-9');
      await first.until((e) => e.some((x) => x.type === 'connected'));
      for (let i = 0; i < 5; i++) await append(i, { executionId: 'exec-9' });
      await first.until(() => first.audits().length >= 2);
      const lastSeen = first.audits()[1]!.id!;
      first.close();
      for (let i = 5; i < 9; i++) await append(i, { executionId: 'exec-9' });
      const second = openStream(t, '?executionId=exec-9', { 'last-event-id': lastSeen });
      await second.until(() => second.audits().length >= 7);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(second.audits().map((e) => e.data.data.n)).toEqual([2, 3, 4, 5, 6, 7, 8]);
      second.close();
    });

    it('replays from `since`, then follows live, in order and without gaps under load', async () => {
      const before = await append(100, { executionId: 'exec-since' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const since = new Date(Date.now() - 5).toISOString();
      const marker = await append(101, { executionId: 'exec-since' });
      const stream = openStream(t, `?executionId=exec-since&since=${encodeURIComponent(since)}`);
      await stream.until(() => stream.audits().length >= 1);
      await Promise.all(Array.from({ length: 200 }, (_, i) => append(1000 + i, { executionId: 'exec-since' })));
      await stream.until(() => stream.audits().length >= 201);
      const ids = stream.audits().map((e) => Number(e.id));
      expect(ids[0]).toBe(marker.index);
      expect(ids).not.toContain(before.index);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      stream.close();
    });

    it('sends keepalives and ends with a timeout event', async () => {
      const stream = openStream(t, '');
      await stream.until((e) => e.filter((x) => x.type === 'keepalive').length >= 2);
      await stream.until((e) => e.some((x) => x.type === 'timeout'), 5_000).catch(() => undefined);
      await stream.done;
      expect(stream.events.at(-1)?.type).toBe('timeout');
      expect(stream.isEnded()).toBe(true);
    });

    it('refuses a bad Last-Event-ID or since, and a key without audit:read', async () => {
      const bad = await t.request('GET', '/api/sdk/audit/stream', { key: t.tenantA.adminKey, headers: { 'last-event-id': 'abc' } });
      expect(bad.status).toBe(400);
      const since = await t.request('GET', '/api/sdk/audit/stream?since=notadate', { key: t.tenantA.adminKey });
      expect(since.status).toBe(400);
      const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] });
      expect((await t.request('GET', '/api/sdk/audit/stream', { key: token })).status).toBe(403);
    });

    it("never streams another tenant's records", async () => {
      const stream = openStream(t, '');
      await stream.until((e) => e.some((x) => x.type === 'connected'));
      await t.services.ledger.append(t.tenantB.id, { type: 'secret.of.b', data: {} });
      await append(5000);
      await stream.until(() => stream.audits().length >= 1);
      expect(stream.audits().every((e) => e.data.tenantId === t.tenantA.id)).toBe(true);
      stream.close();
    });
  });
}

streamSuite('SQLite', undefined);
const pgUrl = postgresTestUrl('audit stream');
if (pgUrl) streamSuite('PostgreSQL', pgUrl);
