import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('kill switch against running sandbox executions', () => {
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    t = await startTestServer();
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function startSpinningAgent(name: string) {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name, entry_code: 'while (true) {}', config: { cpu_time_limit_ms: 60_000 } } });
    const id: number = agent.body.agent.id;
    const run = t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} });
    // Wait until the execution is really running on a worker.
    for (let i = 0; i < 200 && t.services.sandboxRuntime.activeCount === 0; i++) await new Promise((r) => setTimeout(r, 10));
    return { id, run };
  }

  it('a kill signal terminates the running while(true){} execution and records the reason', async () => {
    const { id, run } = await startSpinningAgent('spinner');
    expect(t.services.sandboxRuntime.activeCount).toBe(1);
    await t.services.bus.publish('kill', { tenantId: t.tenantA.id, agentId: String(id), halted: true, reason: 'Suspicious output detected' });
    const answer = await run;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'killed', was_terminated: true });
    const detail = await t.request('GET', `/api/v1/sdk/agents/${id}/executions/${answer.body.execution_id}`, { key });
    expect(detail.body.termination_reason).toBe('Suspicious output detected');
  });

  it('a kill for another tenant or another agent leaves the execution running', async () => {
    const { id, run } = await startSpinningAgent('survivor');
    await t.services.bus.publish('kill', { tenantId: t.tenantB.id, halted: true, global: true, reason: 'other tenant' });
    await t.services.bus.publish('kill', { tenantId: t.tenantA.id, agentId: String(id + 1000), halted: true, reason: 'other agent' });
    expect(t.services.sandboxRuntime.activeCount).toBe(1);
    await t.services.bus.publish('kill', { tenantId: t.tenantA.id, global: true, halted: true, reason: 'global stop' });
    const answer = await run;
    expect(answer.body.was_terminated).toBe(true);
    const detail = await t.request('GET', `/api/v1/sdk/agents/${id}/executions/${answer.body.execution_id}`, { key });
    expect(detail.body.termination_reason).toBe('global stop');
  });
});
