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
    await t.services.bus.publish('kill', { tenantId: t.tenantA.id, agentId: String(id), halted: false });
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
    for (const tenantId of [t.tenantA.id, t.tenantB.id]) await t.services.bus.publish('kill', { tenantId, global: true, halted: false });
    await t.services.bus.publish('kill', { tenantId: t.tenantA.id, agentId: String(id + 1000), halted: false });
  });

  it('the REST kill switch ends the running execution, refuses new ones with 409 AGENT_HALTED, and unkill resumes', async () => {
    const { id, run } = await startSpinningAgent('rest-killed');
    const kill = await t.request('POST', `/api/sdk/agents/${id}/kill`, { key, body: { reason: 'Policy violation' } });
    expect(kill.status).toBe(200);
    const answer = await run;
    expect(answer.body).toMatchObject({ status: 'killed', was_terminated: true });
    const refused = await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'AGENT_HALTED', details: { reason: expect.stringContaining('Policy violation') } });
    await t.request('POST', `/api/sdk/agents/${id}/unkill`, { key, body: {} });
    await t.request('PATCH', `/api/v1/sdk/agents/${id}`, { key, body: { entry_code: 'return "back";' } });
    expect((await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} })).body.output).toBe('back');
  });

  it('a kill by agent name and the global switch also refuse executions; the ledger records the kill', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'named-agent', entry_code: 'return 1;' } });
    const id = agent.body.agent.id;
    await t.request('POST', '/api/sdk/agents/named-agent/kill', { key, body: { reason: 'by name' } });
    expect((await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} })).body.error.code).toBe('AGENT_HALTED');
    await t.request('POST', '/api/sdk/agents/named-agent/unkill', { key, body: {} });
    expect((await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} })).status).toBe(200);
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: true, reason: 'Emergency maintenance' } });
    const refused = await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} });
    expect(refused.body.error).toMatchObject({ code: 'AGENT_HALTED', message: expect.stringContaining('Emergency maintenance') });
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: false } });
    expect((await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} })).status).toBe(200);
    await t.services.ledger.flush();
    const kills = await t.store.ledger.records(t.tenantA.id, { types: ['sandbox.kill'] }, 100);
    expect(kills.length).toBeGreaterThanOrEqual(2);
  });
});
