// API keys with scope `agents` restricted to named sandbox agents. Before, any `agents` key could PATCH its own
// agent's config (grant itself every permission without a permission request), delete or revive agents, read
// every agent's executions and context, and use the tenant's credentials. A restricted key now drives only its own
// agents, never widens what they may do, and every `agents` route that reaches beyond them refuses it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

const CONFIG = { sandbox_template: 'STANDARD', permissions: ['data:read'], memory_limit_mb: 128, compliance: ['soc2'] };

describe('API keys with scope agents restricted to named sandbox agents', () => {
  let t: TestServer;
  let admin: string;
  let bound: string;
  let ownId: number;
  let otherId: number;

  const forbidden = (answer: { status: number; body: { error?: { code?: string } } }) => {
    expect(answer.status).toBe(403);
    expect(answer.body.error?.code).toBe('KEY_AGENT_FORBIDDEN');
  };

  beforeAll(async () => {
    t = await startTestServer();
    admin = t.tenantA.adminKey;
    ownId = (await t.request('POST', '/api/v1/sdk/agents', { key: admin, body: { name: 'own-bot', entry_code: 'return input;', config: CONFIG } })).body.agent.id;
    otherId = (await t.request('POST', '/api/v1/sdk/agents', { key: admin, body: { name: 'other-bot', entry_code: 'return 2;', config: CONFIG } })).body.agent.id;
    const created = await t.request('POST', '/api/v1/keys', { key: admin, body: { scopes: ['agents', 'enforce'], agentIds: ['own-bot'] } });
    expect(created.status).toBe(201);
    expect(created.body.key.agentIds).toEqual(['own-bot']);
    bound = created.body.secret;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('drives its own agent: get, re-register with the same config, new code, execute, context, executions, compliance', async () => {
    expect((await t.request('GET', `/api/v1/sdk/agents/${ownId}`, { key: bound })).status).toBe(200);
    // Key order does not matter: the same config, re-sent on every start by a SecureAgent.
    const again = await t.request('POST', '/api/v1/sdk/agents', { key: bound, body: { name: 'own-bot', entry_code: 'return [input];', config: { compliance: ['soc2'], memory_limit_mb: 128, permissions: ['data:read'], sandbox_template: 'STANDARD' } } });
    expect(again.status).toBe(200);
    expect((await t.request('GET', `/api/v1/sdk/agents/${ownId}`, { key: admin })).body.agent.entry_code).toBe('return [input];');
    expect((await t.request('PATCH', `/api/v1/sdk/agents/${ownId}`, { key: bound, body: { description: 'mine', config: CONFIG } })).status).toBe(200);
    const run = await t.request('POST', `/api/v1/sdk/agents/${ownId}/execute`, { key: bound, body: { input: 5 } });
    expect(run.status).toBe(200);
    expect(run.body.output).toEqual([5]);
    expect((await t.request('PUT', `/api/v1/sdk/agents/${ownId}/context/k`, { key: bound, body: { value: 1 } })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/sdk/agents/${ownId}/context/k`, { key: bound })).body.value).toBe(1);
    const executions = await t.request('GET', `/api/v1/sdk/agents/${ownId}/executions`, { key: bound });
    expect(executions.status).toBe(200);
    expect(executions.body.total).toBeGreaterThanOrEqual(1);
    expect((await t.request('GET', `/api/v1/sdk/agents/${ownId}/executions/${executions.body.executions[0].execution_id}`, { key: bound })).status).toBe(200);
    expect((await t.request('GET', `/api/v1/sdk/executions/${executions.body.executions[0].execution_id}/verify`, { key: bound })).status).toBe(200);
    const compliance = await t.request('GET', `/api/v1/sdk/agents/${ownId}/compliance`, { key: bound });
    expect(compliance.status, JSON.stringify(compliance.body)).toBe(200);
  });

  it('cannot widen what its agent may do: config, status, rename, delete, new agents', async () => {
    forbidden(await t.request('PATCH', `/api/v1/sdk/agents/${ownId}`, { key: bound, body: { config: { ...CONFIG, permissions: ['data:read', 'network:outbound'] } } }));
    forbidden(await t.request('PATCH', `/api/v1/sdk/agents/${ownId}`, { key: bound, body: { config: { sandbox_template: 'FULL' } } }));
    forbidden(await t.request('PATCH', `/api/v1/sdk/agents/${ownId}`, { key: bound, body: { status: 'disabled' } }));
    forbidden(await t.request('PATCH', `/api/v1/sdk/agents/${ownId}`, { key: bound, body: { name: 'renamed-bot' } }));
    forbidden(await t.request('POST', '/api/v1/sdk/agents', { key: bound, body: { name: 'own-bot', config: { ...CONFIG, memory_limit_mb: 2048 } } }));
    // A lone surrogate cannot be canonicalised: refused (by the body parser or as a change), never a 500.
    const odd = await t.request('POST', '/api/v1/sdk/agents', { key: bound, body: { name: 'own-bot', config: { ...CONFIG, note: '\ud800' } } });
    expect([400, 403]).toContain(odd.status);
    forbidden(await t.request('POST', '/api/v1/sdk/agents', { key: bound, body: { name: 'own-bot-2', entry_code: 'return 1;' } }));
    forbidden(await t.request('DELETE', `/api/v1/sdk/agents/${ownId}`, { key: bound }));
    const stored = await t.request('GET', `/api/v1/sdk/agents/${ownId}`, { key: admin });
    expect(stored.body.agent).toMatchObject({ name: 'own-bot', status: 'ready', config: CONFIG });
    expect((await t.request('GET', '/api/v1/sdk/agents', { key: admin })).body.agents.map((agent: { name: string }) => agent.name).sort()).toEqual(['other-bot', 'own-bot']);
  });

  it("sees and touches no other agent: another agent's get, execute, context, executions, compliance, list", async () => {
    for (const [method, path, body] of [
      ['GET', `/api/v1/sdk/agents/${otherId}`],
      ['PATCH', `/api/v1/sdk/agents/${otherId}`, { description: 'x' }],
      ['POST', `/api/v1/sdk/agents/${otherId}/execute`, { input: 1 }],
      ['PUT', `/api/v1/sdk/agents/${otherId}/context/k`, { value: 2 }],
      ['GET', `/api/v1/sdk/agents/${otherId}/context/k`],
      ['GET', `/api/v1/sdk/agents/${otherId}/executions`],
      ['GET', `/api/v1/sdk/agents/${otherId}/executions/1`],
      ['GET', `/api/v1/sdk/agents/${otherId}/compliance`],
      ['POST', `/api/v1/sdk/agents/${otherId}/compliance/evaluate`, {}],
      ['GET', `/api/v1/sdk/agents/${otherId}/compliance/report`],
      ['GET', `/api/v1/sdk/agents/${otherId}/compliance/evidence/eu-ai-act`],
      ['POST', '/api/v1/sdk/agents', { name: 'other-bot', entry_code: 'return 3;' }],
    ] as const) {
      forbidden(await t.request(method, path, { key: bound, ...(body ? { body } : {}) }));
    }
    expect((await t.request('GET', `/api/v1/sdk/agents/${otherId}/context/k`, { key: admin })).body.value).toBeNull();
    expect((await t.request('GET', `/api/v1/sdk/agents/${otherId}`, { key: admin })).body.agent.entry_code).toBe('return 2;');
    const listed = await t.request('GET', '/api/v1/sdk/agents', { key: bound });
    expect(listed.body.agents.map((agent: { name: string }) => agent.name)).toEqual(['own-bot']);
    // An unknown id stays 404, as for any key.
    expect((await t.request('GET', '/api/v1/sdk/agents/999999', { key: bound })).status).toBe(404);
  });

  it('permission requests: asks and waits only for its own agent, lists only its own', async () => {
    const own = await t.request('POST', '/api/sdk/permission-requests', { key: bound, body: { agent_id: ownId, permissions: { permissions: ['network:outbound'] } } });
    expect(own.status).toBe(201);
    forbidden(await t.request('POST', '/api/sdk/permission-requests', { key: bound, body: { agent_id: otherId, permissions: { permissions: ['network:outbound'] } } }));
    const others = await t.request('POST', '/api/sdk/permission-requests', { key: admin, body: { agent_id: otherId, permissions: { permissions: ['network:outbound'] } } });
    expect(others.status).toBe(201);
    forbidden(await t.request('GET', `/api/sdk/permission-requests/${others.body.id}`, { key: bound }));
    expect((await t.request('GET', `/api/sdk/permission-requests/${own.body.id}`, { key: bound })).status).toBe(200);
    const listed = await t.request('GET', '/api/sdk/permission-requests', { key: bound });
    expect(listed.body.requests.map((request: { id: number }) => request.id)).toEqual([own.body.id]);
    expect((await t.request('GET', '/api/sdk/permission-requests', { key: admin })).body.requests).toHaveLength(2);
    // Deciding stays with people (scope approvals), whatever the key.
    expect((await t.request('POST', `/api/sdk/permission-requests/${own.body.id}/approve`, { key: bound, body: {} })).status).toBe(403);
  });

  it('kill switch: may halt its own agent, never revive one, halt another or touch the global switch', async () => {
    expect((await t.request('POST', '/api/sdk/agents/own-bot/kill', { key: bound, body: { reason: 'self-stop' } })).status).toBe(200);
    forbidden(await t.request('POST', '/api/sdk/agents/own-bot/unkill', { key: bound, body: {} }));
    // SecureAgent.stop() halts by the sandbox agent's numeric id: its own id is its own agent, another's is not.
    expect((await t.request('POST', `/api/sdk/agents/${ownId}/kill`, { key: bound, body: { reason: 'stop()' } })).status).toBe(200);
    forbidden(await t.request('POST', `/api/sdk/agents/${otherId}/kill`, { key: bound, body: {} }));
    forbidden(await t.request('POST', '/api/sdk/agents/999999/kill', { key: bound, body: {} }));
    forbidden(await t.request('POST', '/api/sdk/agents/other-bot/kill', { key: bound, body: {} }));
    forbidden(await t.request('POST', '/api/sdk/kill-switch/global', { key: bound, body: { halted: true } }));
    await t.request('POST', '/api/sdk/agents/other-bot/kill', { key: admin, body: { reason: 'ops' } });
    const state = await t.request('GET', '/api/sdk/kill-switch', { key: bound });
    expect(state.status).toBe(200);
    expect(state.body.global.halted).toBe(false);
    expect(state.body.agents.map((agent: { agent_id: string }) => agent.agent_id).sort()).toEqual([String(ownId), 'own-bot'].sort());
    expect((await t.request('GET', '/api/sdk/kill-switch', { key: admin })).body.agents).toHaveLength(3);
    const enforced = await t.request('POST', '/v1/enforce', { key: bound, body: { agentId: 'own-bot', toolName: 'x', arguments: {} } });
    expect(enforced.body.decision).toBe('BLOCK');
    expect((await t.request('POST', '/api/sdk/agents/own-bot/unkill', { key: admin, body: {} })).status).toBe(200);
    expect((await t.request('POST', `/api/sdk/agents/${ownId}/unkill`, { key: admin, body: {} })).status).toBe(200);
    expect((await t.request('POST', '/api/sdk/agents/other-bot/unkill', { key: admin, body: {} })).status).toBe(200);
  });

  it("tenant-wide routes refuse it: credentials, the dashboard; another agent's execution cannot be verified", async () => {
    forbidden(await t.request('POST', '/api/v1/sdk/credentials', { key: bound, body: { name: 'API_TOKEN', value: 'secret-value-123' } }));
    forbidden(await t.request('GET', '/api/v1/sdk/credentials', { key: bound }));
    const othersRun = await t.request('POST', `/api/v1/sdk/agents/${otherId}/execute`, { key: admin, body: { input: 1 } });
    expect(othersRun.status).toBe(200);
    forbidden(await t.request('GET', `/api/v1/sdk/executions/${othersRun.body.execution_id}/verify`, { key: bound }));
    forbidden(await t.request('POST', '/api/v1/session', { body: { apiKey: bound } }));
    // The same routes still serve an unrestricted agents key.
    const unrestricted = (await t.request('POST', '/api/v1/keys', { key: admin, body: { scopes: ['agents'] } })).body.secret;
    expect((await t.request('GET', '/api/v1/sdk/credentials', { key: unrestricted })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/sdk/agents', { key: unrestricted })).body.agents).toHaveLength(2);
  });
});
