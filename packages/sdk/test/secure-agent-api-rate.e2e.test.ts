import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { SDKError, SecureAgent } from '../src/index.js';

// The sandbox enforces API calls per minute per execution (max_api_calls_per_minute), but SecureAgent had no way to
// set it: limits.maxApiCallsPerMinute did not exist and permission requests refused the field.

/** Entry code making `n` read_context calls and reporting each outcome ('ok' or the error code). */
const CALLS = (n: number) => `const out = [];
for (let i = 0; i < ${n}; i++) { try { await tollgate.read_context('k' + i); out.push('ok') } catch (e) { out.push(e.code) } }
return out;`;

describe('SecureAgent API-call rate against a real server', () => {
  let t: TestServer;
  let key: string;
  let approverKey: string;
  beforeAll(async () => {
    t = await startTestServer({ config: { executionsPerHour: 3 } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    approverKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('limits.maxApiCallsPerMinute becomes max_api_calls_per_minute and the sandbox enforces it', async () => {
    const agent = new SecureAgent({
      apiKey: key, baseUrl: t.url, name: 'per-minute', entryCode: CALLS(5), permissions: ['data:read'],
      limits: { maxApiCallsPerMinute: 3, maxApiCallsPerRun: 50 },
    });
    await agent.configure();
    const stored = await t.request('GET', `/api/v1/sdk/agents/${agent.agentId}`, { key });
    expect(stored.body.agent.config).toMatchObject({ max_api_calls_per_minute: 3, max_api_calls_per_run: 50 });
    const run = await agent.run({ task: 'read' });
    expect(run.output).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(run.violationCount).toBe(2);
  });

  it('a bad maxApiCallsPerMinute is INVALID_OPTIONS before any request', () => {
    expect(() => new SecureAgent({ apiKey: key, baseUrl: t.url, limits: { maxApiCallsPerMinute: 0 } })).toThrowError(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('limits.maxApiCallsPerMinute') }) as unknown as Error,
    );
  });

  it('requestPermission() can ask for max_api_calls_per_minute; approval raises the rate for later runs', async () => {
    const agent = new SecureAgent({
      apiKey: key, baseUrl: t.url, name: 'asks-for-rate', entryCode: CALLS(5), permissions: ['data:read'], limits: { maxApiCallsPerMinute: 2 },
    });
    await agent.configure();
    const approveNext = (async () => {
      for (;;) {
        const pending = await t.request('GET', '/api/sdk/permission-requests?status=pending', { key });
        const mine = pending.body.requests.find((r: { agent_id: number }) => r.agent_id === agent.agentId);
        if (mine) return t.request('POST', `/api/sdk/permission-requests/${mine.id}/approve`, { key: approverKey, body: {} });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const [approved] = await Promise.all([
      agent.requestPermission({ permissions: { max_api_calls_per_minute: 10 }, justification: 'batch', timeoutMs: 10_000 }),
      approveNext,
    ]);
    expect(approved).toMatchObject({ status: 'approved', permissions: { max_api_calls_per_minute: 10 } });
    const stored = await t.request('GET', `/api/v1/sdk/agents/${agent.agentId}`, { key });
    expect(stored.body.agent.config.max_api_calls_per_minute).toBe(10);
    expect((await agent.run({ task: 'read' })).output).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);

    // Out of range is refused when asked, not when approved.
    await expect(agent.requestPermission({ permissions: { max_api_calls_per_minute: 0 }, timeoutMs: 10_000 }))
      .rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  });

  it('run() past the executions-per-hour quota is SDKError RATE_LIMITED with details.retryAfter in seconds', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'hourly', entryCode: 'return 1;' });
    for (let i = 0; i < 3; i++) await agent.run({ task: 'x' });
    const refused = await agent.run({ task: 'x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SDKError);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    const retryAfter = ((refused as SDKError).details as { retryAfter: number }).retryAfter;
    expect(retryAfter).toBeGreaterThan(3590);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });
});
