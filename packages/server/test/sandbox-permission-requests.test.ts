import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('/api/sdk/permission-requests', () => {
  let t: TestServer;
  let agentKey: string;
  let approverKey: string;
  let agentId: number;
  beforeAll(async () => {
    t = await startTestServer();
    agentKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    approverKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
    const entry = 'return await thetazero.read_context("k").then(() => "read", (e) => "denied");';
    const created = await t.request('POST', '/api/v1/sdk/agents', { key: agentKey, body: { name: 'asker', entry_code: entry, config: { permissions: ['compute:read'] } } });
    agentId = created.body.agent.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (body: Record<string, unknown>) => t.request('POST', '/api/sdk/permission-requests', { key: agentKey, body: { agent_id: agentId, ...body } });
  const run = async () => (await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key: agentKey, body: {} })).body.output;

  it('an approved request takes effect for later runs', async () => {
    expect(await run()).toBe('denied');
    const request = await create({ permissions: { permissions: ['data:read'] }, justification: 'needs its context' });
    expect(request.status).toBe(201);
    expect(request.body).toMatchObject({ status: 'pending', agent_id: agentId, justification: 'needs its context' });
    const pending = await t.request('GET', '/api/sdk/permission-requests?status=pending', { key: agentKey });
    expect(pending.body.requests.map((r: { id: number }) => r.id)).toContain(request.body.id);
    const approved = await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: approverKey, body: { comment: 'ok' } });
    expect(approved.body).toMatchObject({ status: 'approved', comment: 'ok' });
    expect(await run()).toBe('read');
    const agent = await t.request('GET', `/api/v1/sdk/agents/${agentId}`, { key: agentKey });
    expect(agent.body.agent.config.permissions).toEqual(['compute:read', 'data:read']);
  });

  it('the agent key cannot approve its own request; deciding twice is a 409', async () => {
    const request = await create({ permissions: { allow_network: true } });
    const self = await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: agentKey, body: {} });
    expect(self.status).toBe(403);
    const denied = await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/deny`, { key: approverKey, body: { comment: 'no network' } });
    expect(denied.body.status).toBe('denied');
    const again = await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: approverKey, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PERMISSION_REQUEST_DECIDED');
  });

  it('a long poll returns as soon as the request is decided', async () => {
    const request = await create({ permissions: { max_api_calls_per_run: 500 } });
    const waiting = t.request('GET', `/api/sdk/permission-requests/${request.body.id}?wait_ms=20000`, { key: agentKey });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: approverKey, body: {} });
    expect((await waiting).body.status).toBe('approved');
  });

  it('an undecided request expires', async () => {
    const request = await create({ permissions: { allow_network: true }, timeout_ms: 50 });
    const answer = await t.request('GET', `/api/sdk/permission-requests/${request.body.id}?wait_ms=5000`, { key: agentKey });
    expect(answer.body.status).toBe('expired');
    const late = await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: approverKey, body: {} });
    expect(late.status).toBe(409);
  });

  it.each([
    [{ permissions: {} }, 'permissions'],
    [{ permissions: { become_root: true } }, 'become_root'],
    [{ permissions: { permissions: ['root:all'] } }, 'permissions'],
    [{ permissions: { allow_network: true }, timeout_ms: 0 }, 'timeout_ms'],
  ])('refuses a bad request %j with 400', async (body, field) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(field);
  });

  it('keeps requests per tenant', async () => {
    const request = await create({ permissions: { allow_network: true } });
    const b = t.tenantB.adminKey;
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.body.id}`, { key: b })).status).toBe(404);
    expect((await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/approve`, { key: b, body: {} })).status).toBe(404);
    expect((await t.request('POST', '/api/sdk/permission-requests', { key: b, body: { agent_id: agentId, permissions: { allow_network: true } } })).status).toBe(404);
  });

  it('pending requests appear in the approvals queue, and approving there grants the permissions', async () => {
    const request = await create({ permissions: { allowed_domains: ['api.example.com'] }, justification: 'queue me' });
    const queue = await t.request('GET', '/api/v1/approvals?status=pending', { key: approverKey });
    const item = queue.body.items.find((entry: { id: string }) => entry.id === `perm_${request.body.id}`);
    expect(item).toMatchObject({ kind: 'permission_request', status: 'pending', agentId: String(agentId), reason: 'queue me' });
    const approved = await t.request('POST', `/api/v1/approvals/perm_${request.body.id}/approve`, { key: approverKey, body: { comment: 'fine' } });
    expect(approved.status).toBe(200);
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.body.id}`, { key: agentKey })).body.status).toBe('approved');
    const agent = await t.request('GET', `/api/v1/sdk/agents/${agentId}`, { key: agentKey });
    expect(agent.body.agent.config.allowed_domains).toEqual(['api.example.com']);
  });
});
