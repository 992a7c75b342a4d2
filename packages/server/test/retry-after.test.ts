import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type ManualClock } from '../src/index.js';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// Clients that follow HTTP (proxies, fetch wrappers, curl --retry) read the Retry-After header, not
// details.retryAfter; the 429 of the executions-per-hour quota used to carry only the latter, and /openapi.json did
// not list the 429 of execute at all.

describe('Retry-After on 429 RATE_LIMITED (executions-per-hour quota)', () => {
  let t: TestServer;
  let key: string;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    t = await startTestServer({ clock, config: { executionsPerHour: 2 } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const execute = (agentId: number) => t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: {} });

  it('sends Retry-After in whole seconds equal to details.retryAfter, rounded up', async () => {
    const created = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'retry-after', entry_code: 'return 1;' } });
    const agentId = created.body.agent.id as number;
    const first = await execute(agentId);
    expect(first.status).toBe(200);
    expect(first.headers.get('retry-after')).toBeNull();
    clock.advance(10 * 60_000);
    expect((await execute(agentId)).status).toBe(200);
    clock.advance(500); // the first run's slot frees in 49 min 59.5 s: a client must wait 3000 s, not 2999
    const refused = await execute(agentId);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfter: 3000 } });
    expect(refused.headers.get('retry-after')).toBe('3000');

    clock.advance(2_999_000); // half a second left: rounded up to 1, never 0
    const almost = await execute(agentId);
    expect(almost.status).toBe(429);
    expect(almost.headers.get('retry-after')).toBe('1');
    expect(almost.body.error.details.retryAfter).toBe(1);

    clock.advance(1_000);
    const again = await execute(agentId);
    expect(again.status).toBe(200);
    expect(again.headers.get('retry-after')).toBeNull();
  });

  it('does not send Retry-After on errors that carry no retry hint', async () => {
    const missing = await t.request('POST', '/api/v1/sdk/agents/999999/execute', { key, body: {} });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('retry-after')).toBeNull();
    const invalid = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'x', config: { max_api_calls_per_minute: 0 } } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('retry-after')).toBeNull();
  });
});

describe('/openapi.json', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('documents the 429 of execute with the error envelope and the Retry-After header', async () => {
    const doc = await t.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    const responses = doc.body.paths['/api/v1/sdk/agents/{id}/execute'].post.responses;
    const envelope = responses['404'].content['application/json'].schema;
    const rateLimited = responses['429'];
    expect(rateLimited, 'execute must document its 429').toBeDefined();
    expect(rateLimited.content['application/json'].schema).toMatchObject({ title: 'ErrorEnvelope', properties: envelope.properties, required: ['error'] });
    expect(rateLimited.headers['Retry-After'].schema).toEqual({ type: 'integer', minimum: 1 });
    expect(rateLimited.description).toMatch(/RATE_LIMITED/);
  });
});
