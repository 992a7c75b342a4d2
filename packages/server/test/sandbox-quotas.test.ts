import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, loadConfig, manualClock, startTollgate, type ManualClock } from '../src/index.js';
import { createTestDatabase, postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

// The seed's "Rate Limits & Quotas": API calls / minute per execution (60, overridable), executions / hour (10),
// violations in the audit trail as rate_limit_hit / sandbox_limit_hit with is_violation: true.

const HOUR = 3_600_000;
const pgUrl = postgresTestUrl('sandbox quotas on PostgreSQL');

async function createAgent(t: TestServer, key: string, name: string, entryCode = 'return 1;', config: Record<string, unknown> = {}): Promise<number> {
  const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name, entry_code: entryCode, config } });
  expect(agent.status).toBe(201);
  return agent.body.agent.id as number;
}

async function auditRecords(t: TestServer, key: string, query: string): Promise<Array<{ type: string; is_violation: boolean; agent_id: string | null; execution_id: string | null; data: any }>> {
  const res = await t.request('GET', `/api/v1/audit/records?limit=1000&${query}`, { key });
  expect(res.status).toBe(200);
  return res.body.events;
}

describe('executions per hour, on the default quota (10 per agent)', () => {
  let t: TestServer;
  let key: string;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    t = await startTestServer({ clock });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the 11th execution within an hour with 429 RATE_LIMITED and a retryAfter, and logs rate_limit_hit', async () => {
    const agentId = await createAgent(t, key, 'hourly');
    for (let i = 0; i < 10; i++) {
      const run = await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: {} });
      expect(run.status, `run ${i + 1}`).toBe(200);
      clock.advance(60_000);
    }
    const refused = await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: {} });
    expect(refused.status).toBe(429);
    // The first run started 10 minutes ago: its slot frees in 50 minutes.
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'executions_per_hour', quota: 10, retryAfter: 3000, agentId } });
    expect((await t.request('GET', `/api/v1/sdk/agents/${agentId}/executions`, { key })).body.total).toBe(10);

    const hits = await auditRecords(t, key, `actionTypes=rate_limit_hit&agentId=${agentId}`);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ type: 'rate_limit_hit', is_violation: true, data: { limit: 'executions_per_hour', quota: 10, retry_after_seconds: 3000 } });

    // A retry loop is refused every time but adds no more records until a slot frees.
    expect((await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: {} })).status).toBe(429);
    expect(await auditRecords(t, key, `actionTypes=rate_limit_hit&agentId=${agentId}`)).toHaveLength(1);
  });

  it('counts per agent, and frees a slot when the oldest run leaves the rolling hour', async () => {
    const other = await createAgent(t, key, 'hourly-neighbour');
    expect((await t.request('POST', `/api/v1/sdk/agents/${other}/execute`, { key, body: {} })).status).toBe(200);
    const agents = (await t.request('GET', '/api/v1/sdk/agents', { key })).body.agents as Array<{ id: number; name: string }>;
    const hourly = agents.find((a) => a.name === 'hourly')?.id;
    clock.advance(HOUR - 10 * 60_000 + 1); // the first of the ten runs is now just over an hour old
    expect((await t.request('POST', `/api/v1/sdk/agents/${hourly}/execute`, { key, body: {} })).status).toBe(200);
    expect((await t.request('POST', `/api/v1/sdk/agents/${hourly}/execute`, { key, body: {} })).status).toBe(429);
  });

  it('serialises concurrent requests of one agent so they cannot overshoot the quota', async () => {
    const agentId = await createAgent(t, key, 'hourly-burst');
    // Started in one tick through the service, so every check would run before any insert without the lock.
    const answers = await Promise.allSettled(Array.from({ length: 15 }, () => t.services.executions.execute(t.tenantA.id, agentId, null, null)));
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(10);
    expect(answers.filter((a) => a.status === 'rejected').map((a) => (a as PromiseRejectedResult).reason.code)).toEqual(Array(5).fill('RATE_LIMITED'));
  });
});

describe('API calls per minute within one execution', () => {
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    t = await startTestServer({ config: { executionsPerHour: 0 } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const CALLS = (n: number) => `const out = [];
for (let i = 0; i < ${n}; i++) { try { await tollgate.read_context('k' + i); out.push('ok') } catch (e) { out.push(e.code) } }
return out;`;

  it('allows 60 by default and refuses the 61st with RATE_LIMITED, logging one rate_limit_hit for the execution', async () => {
    const agentId = await createAgent(t, key, 'chatty', CALLS(63), { sandbox_template: 'STANDARD', permissions: ['data:read'] });
    const run = await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: {} });
    expect(run.status).toBe(200);
    expect(run.body.output.filter((x: string) => x === 'ok')).toHaveLength(60);
    expect(run.body.output.slice(60)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(run.body.violation_count).toBe(3);
    const records = await auditRecords(t, key, `executionId=${run.body.execution_id}`);
    expect(records.filter((r) => r.type === 'rate_limit_hit')).toEqual([
      expect.objectContaining({ is_violation: true, execution_id: String(run.body.execution_id), data: expect.objectContaining({ limit: 'max_api_calls_per_minute', count: 3, functions: ['read_context'] }) }),
    ]);
    expect(records.filter((r) => r.type === 'sandbox.host_call' && r.is_violation)).toHaveLength(3);
  });

  it('takes the agent override max_api_calls_per_minute', async () => {
    const agentId = await createAgent(t, key, 'limited', CALLS(5), { permissions: ['data:read'], max_api_calls_per_minute: 3 });
    const run = await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: {} });
    expect(run.body.output).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    const bad = await t.request('PATCH', `/api/v1/sdk/agents/${agentId}`, { key, body: { config: { max_api_calls_per_minute: 0 } } });
    expect(bad.status).toBe(400);
  });

  it('logs the per-run API-call quota and runtime limits as sandbox_limit_hit', async () => {
    const quota = await createAgent(t, key, 'over-run-quota', CALLS(4), { permissions: ['data:read'], max_api_calls_per_run: 2 });
    const run = await t.request('POST', `/api/v1/sdk/agents/${quota}/execute`, { key, body: {} });
    const slow = await createAgent(t, key, 'spinner', 'while (true) {}', { cpu_time_limit_ms: 200 });
    const timedOut = await t.request('POST', `/api/v1/sdk/agents/${slow}/execute`, { key, body: {} });
    expect(timedOut.body.status).toBe('timeout');
    const hits = await auditRecords(t, key, 'actionTypes=sandbox_limit_hit&violationsOnly=true');
    expect(hits).toEqual(expect.arrayContaining([
      expect.objectContaining({ execution_id: String(run.body.execution_id), data: expect.objectContaining({ limit: 'max_api_calls_per_run', count: 2 }) }),
      expect.objectContaining({ execution_id: String(timedOut.body.execution_id), data: expect.objectContaining({ limit: 'timeout' }) }),
    ]));
  });
});

/** A server on given storage, restartable: the operator key of tenant `default` drives it over HTTP. */
async function startOn(storage: { dataDir: string; databaseUrl?: string | undefined }, executionsPerHour: number) {
  const adminKey = generateApiKey().token;
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'silent', adminKey, executionsPerHour, ...storage });
  const running = await startTollgate({ config });
  const execute = async (agentId: number) => (await fetch(`${running.url}/api/v1/sdk/agents/${agentId}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: '{}',
  })).status;
  const createAgentOn = async (name: string) => ((await (await fetch(`${running.url}/api/v1/sdk/agents`, {
    method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, entry_code: 'return 1;' }),
  })).json()) as { agent: { id: number } }).agent.id;
  return { execute, createAgent: createAgentOn, close: () => running.close() };
}

describe.each([
  ['SQLite', undefined],
  ['PostgreSQL', pgUrl],
])('the hourly quota on %s', (_dialect, postgresUrl) => {
  it.skipIf(_dialect === 'PostgreSQL' && !pgUrl)('is configurable and survives a server restart (counted from stored executions)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-quota-'));
    const database = postgresUrl ? await createTestDatabase(postgresUrl) : undefined;
    try {
      const first = await startOn({ dataDir, databaseUrl: database?.url }, 3);
      const agentId = await first.createAgent('restart-quota');
      expect([await first.execute(agentId), await first.execute(agentId), await first.execute(agentId), await first.execute(agentId)]).toEqual([200, 200, 200, 429]);
      await first.close();
      const second = await startOn({ dataDir, databaseUrl: database?.url }, 3);
      try {
        expect(await second.execute(agentId)).toBe(429);
      } finally {
        await second.close();
      }
      const unlimited = await startOn({ dataDir, databaseUrl: database?.url }, 0);
      try {
        expect(await unlimited.execute(agentId)).toBe(200);
      } finally {
        await unlimited.close();
      }
    } finally {
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
