import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';
import { MAX_EVENT_PAGE_BYTES } from '../src/services/events/index.js';

/**
 * Broke: GET /api/v1/events?limit=1000 loaded and answered 1,000 events whatever their size; events of up to the
 * body limit each (written by the tenant's own SDK key) made one page about a gigabyte, held in the memory of the
 * server every tenant shares. A page now stops at MAX_EVENT_PAGE_BYTES of stored text and pages on.
 */
function describePageBytes(name: string, postgresUrl: () => string | undefined) {
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

    it('cuts a page of large events at the byte budget and still reaches every event by cursor', async () => {
      const big = 900_000;
      const count = Math.ceil(MAX_EVENT_PAGE_BYTES / big) + 2;
      const ids: string[] = [];
      for (let index = 0; index < count; index += 1) {
        const eventId = randomUUID();
        ids.push(eventId);
        const body = {
          events: [{
            eventId, eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'a', userId: 'u', sessionId: 'big', toolName: 't',
            callId: randomUUID(), timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(), redaction: 'none',
            arguments: { blob: `${index} `.padEnd(big, 'ab c') },
          }],
        };
        expect((await t.request('POST', '/v1/events/batch', { key: writeA, body })).status).toBe(202);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const answer: Awaited<ReturnType<TestServer['request']>> = await t.request('GET', `/api/v1/events?sessionId=big&limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { key: readA });
        expect(answer.status).toBe(200);
        const events = answer.body.events as { eventId: string; arguments: { blob: string } }[];
        expect(events.length).toBeGreaterThan(0);
        const text = events.reduce((total, event) => total + JSON.stringify(event.arguments).length, 0);
        expect(text).toBeLessThanOrEqual(MAX_EVENT_PAGE_BYTES);
        seen.push(...events.map((event) => event.eventId));
        cursor = answer.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 50);
      expect(pages).toBeGreaterThan(1);
      expect([...seen].sort()).toEqual([...ids].sort());
    });

    it('still answers one event larger than the budget on its own page', async () => {
      const page = await t.services.events.list(t.tenantA.id, { sessionId: 'big', limit: 1 });
      expect(page.events).toHaveLength(1);
      expect(page.nextCursor).not.toBeNull();
    });
  });
}

describePageBytes('events page byte budget on SQLite', () => undefined);
const pgUrl = postgresTestUrl('events page byte budget');
describe.skipIf(!pgUrl)('PostgreSQL', () => describePageBytes('events page byte budget on PostgreSQL', () => pgUrl));
