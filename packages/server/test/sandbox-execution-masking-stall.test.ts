import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomAwsKey, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Masking an execution's results ran on the thread serving every request: the largest log a run may produce
// (1000 lines × 8 KB full of the secret rules' keywords) held up every tenant's requests for about a second.

/** Assembled at run time (no secret-looking literal is committed); the guest gets it reversed in its input. */
const awsKey = randomAwsKey();

const WORST_CASE_LOGS = `
  const key = input.reversed.split('').reverse().join('');
  const line = 'api_key=1 token: secret password AKIA ghp_ xoxb- sk_live_ glpat- -----BEGIN '.repeat(200).slice(0, 8192);
  for (let i = 0; i < 1000; i++) tollgate.log(i === 500 ? 'deploying with ' + key + ' ' + line.slice(0, 8000) : line);
  // Busy a little after logging: masking then starts the moment the run ends, with no pause in between in which
  // another request could slip through.
  const until = Date.now() + 400;
  while (Date.now() < until) {}
  return 'done';`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('masking an execution does not hold up other requests', () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer({ config: { executionsPerHour: 0 } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers /healthz while the largest allowed log full of secret-like text is being masked, and still masks it', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key, body: { name: 'worst-case-logs', entry_code: WORST_CASE_LOGS, config: { content_safety: false } },
    });
    expect(agent.status).toBe(201);
    // The run's ledger records: its first 100 log calls (the rest are counted in the execution record), then the
    // execution, appended once it is masked.
    const base = await t.store.ledger.size(t.tenantA.id);
    const order: string[] = [];
    const stopListening = t.services.bus.subscribe('ledger.appended', (payload) => {
      const batch = payload as { tenantId: string; size: number };
      if (batch.tenantId === t.tenantA.id && batch.size > base + 100 && !order.includes('execution recorded')) order.push('execution recorded');
    });
    const execution = t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, {
      key, body: { input: { reversed: awsKey.split('').reverse().join('') } },
    });
    // Masking starts as soon as the guest's run ends (the sandbox has no active run left).
    const runtime = t.services.sandboxRuntime;
    while (runtime.activeCount === 0 && order.length === 0) await sleep(1);
    while (runtime.activeCount > 0) await sleep(1);
    const health = await t.request('GET', '/healthz');
    order.push('healthz');
    const run = await execution;
    stopListening();

    expect(health.status).toBe(200);
    expect(order).toEqual(['healthz', 'execution recorded']);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ status: 'completed', output: 'done' });
    const stored = await t.request('GET', `/api/v1/sdk/agents/${agent.body.agent.id}/executions/${run.body.execution_id}`, { key });
    expect(stored.body.logs).toHaveLength(1000);
    expect(stored.body.logs[500].message).toMatch(/^deploying with \[REDACTED:aws-access-token\] /);
    expect(JSON.stringify(stored.body)).not.toContain(awsKey.slice(4));
  });
});
