import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const pgUrl = postgresTestUrl('sandbox API on PostgreSQL');

// The sandbox API end to end on PostgreSQL: the store, LISTEN/NOTIFY for kills and long polls, the ledger.
describe.skipIf(!pgUrl)('sandbox API on PostgreSQL', () => {
  let t: TestServer;
  let key: string;
  let approverKey: string;
  beforeAll(async () => {
    t = await startTestServer({ postgresUrl: pgUrl });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    approverKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers, executes, lists and verifies an execution', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'pg-agent', entry_code: 'await thetazero.write_result({ ok: input.n + 1 });' } });
    expect(agent.status).toBe(201);
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input: { n: 41 } } });
    expect(run.body).toMatchObject({ status: 'completed', output: { ok: 42 } });
    const list = await t.request('GET', `/api/v1/sdk/agents/${agent.body.agent.id}/executions`, { key });
    expect(list.body.total).toBe(1);
    const proof = await t.request('GET', `/api/v1/sdk/executions/${run.body.execution_id}/verify`, { key });
    expect(proof.body).toMatchObject({ tee_mode: 'none', chain_valid: true });
  });

  it('kills a running execution through the kill route and answers a long poll on approval', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'pg-spinner', entry_code: 'while (true) {}', config: { cpu_time_limit_ms: 60_000 } } });
    const id = agent.body.agent.id;
    const run = t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} });
    for (let i = 0; i < 300 && t.services.sandboxRuntime.activeCount === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await t.request('POST', `/api/sdk/agents/${id}/kill`, { key, body: { reason: 'pg kill' } });
    expect((await run).body).toMatchObject({ status: 'killed', was_terminated: true });
    const request = await t.request('POST', '/api/sdk/permission-requests', { key, body: { agent_id: id, permissions: { allow_network: true } } });
    const waiting = t.request('GET', `/api/sdk/permission-requests/${request.body.id}?wait_ms=20000`, { key });
    await new Promise((r) => setTimeout(r, 50));
    await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: approverKey, body: {} });
    expect((await waiting).body.status).toBe('approved');
  });

  it('stores, rotates and resolves credentials', async () => {
    const created = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'pg-cred', value: 'pg-secret-value-1' } });
    const rotated = await t.request('POST', `/api/v1/sdk/credentials/${created.body.id}/rotate`, { key, body: { value: 'pg-secret-value-2' } });
    expect(rotated.body.rotated_from).toBe(created.body.id);
    const values = await t.services.credentials.resolve(t.tenantA.id, ['pg-cred'], { agentId: '0', executionId: '0' });
    expect(values.get('pg-cred')).toBe('pg-secret-value-2');
  });
});
