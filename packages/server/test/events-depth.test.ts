import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Regression: `POST /v1/events/batch` with `arguments` or `result` nested 3,000+ deep answered 500 (redaction
// recursed until the stack overflowed). Such events are refused with 400 before redaction, as /v1/enforce does.

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const eventJson = (field: 'arguments' | 'result', value: string, sessionId: string) => JSON.stringify({
  eventId: randomUUID(), eventType: 'TOOL_CALL_POST', sourceType: 'SDK', agentId: 'bot', userId: 'u', sessionId, toolName: 't',
  callId: randomUUID(), timestamp: new Date().toISOString(), redaction: 'full', outcome: 'success',
}).replace(/}$/, `,"${field}":${value}}`);

function suite(name: string, postgresUrl: string | undefined) {
  describe(`deeply nested event values on ${name}`, () => {
    let t: TestServer;
    let key: string;
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl });
      key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['events:write', 'audit:read'] })).token;
    });
    afterAll(async () => {
      await t?.close();
    });

    const post = async (events: string[]) => {
      const response = await fetch(`${t.url}/v1/events/batch`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: `{"events":[${events.join(',')}]}`,
      });
      return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; details: { field: string; maxDepth: number }; requestId: string } } };
    };

    it.each(['arguments', 'result'] as const)('refuses %s nested 10,000 deep with 400 naming the event, and stores nothing of the batch', async (field) => {
      const session = `deep-${field}-${name}`;
      const refused = await post([eventJson('arguments', '{"a":1}', session), eventJson(field, nested(10_000), session)]);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: `body/events/1/${field}`, maxDepth: 64 } });
      expect(refused.body.error?.requestId).toEqual(expect.any(String));
      const listed = await t.request('GET', `/api/v1/events?sessionId=${session}`, { key });
      expect(listed.body.events).toEqual([]);
    });

    it('still accepts a normal event and one nested to the limit (64 levels, as /v1/enforce)', async () => {
      const accepted = await post([eventJson('arguments', '{"path":"/tmp/x"}', 'fine'), eventJson('result', nested(64), 'fine')]);
      expect(accepted).toMatchObject({ status: 202, body: { accepted: 2, duplicates: 0 } });
      expect((await post([eventJson('result', nested(65), 'fine')])).status).toBe(400);
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('events depth');
if (pgUrl) suite('PostgreSQL', pgUrl);
