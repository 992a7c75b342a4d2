import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('permission requests under attack', () => {
  let t: TestServer;
  let agentKey: string;
  let approverKey: string;
  let agentId: number;
  const baseConfig = { permissions: ['compute:read'], allowed_domains: ['api.weather.example'], max_api_calls_per_run: 20 };
  beforeAll(async () => {
    t = await startTestServer();
    agentKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    approverKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
    agentId = (await t.request('POST', '/api/v1/sdk/agents', { key: agentKey, body: { name: 'asker', entry_code: 'return 1;', config: baseConfig } })).body.agent.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const ask = (body: Record<string, unknown>, key = agentKey) => t.request('POST', '/api/sdk/permission-requests', { key, body: { agent_id: agentId, ...body } });
  const decide = (id: number, action: 'approve' | 'deny', key: string, body: unknown = {}) =>
    t.request('POST', `/api/sdk/permission-requests/${id}/${action}`, { key, body });
  const queueDecide = (id: number, action: 'approve' | 'deny', key: string) => t.request('POST', `/api/v1/approvals/perm_${id}/${action}`, { key, body: {} });
  const config = async () => (await t.request('GET', `/api/v1/sdk/agents/${agentId}`, { key: agentKey })).body.agent.config as Record<string, unknown>;

  it('holds: an approval racing an admin edit never writes back a permission the admin just removed', async () => {
    const repository = t.services.store.sandboxAgents as unknown as Record<'update' | 'replaceConfigIf', (...args: unknown[]) => Promise<unknown>>;
    const { update, replaceConfigIf } = repository;
    const widened = { ...baseConfig, permissions: ['compute:read', 'data:write'] };
    await update.call(repository, t.tenantA.id, agentId, { config: widened }, Date.now());
    const request = (await ask({ permissions: { allow_network: true } })).body;
    // The admin's edit (removing data:write) commits after the grant has read the config and before it writes.
    let raced = false;
    const raceFirst = (original: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
      if (!raced) {
        raced = true;
        await update.call(repository, t.tenantA.id, agentId, { config: baseConfig }, Date.now());
      }
      return original.apply(repository, args);
    };
    repository.update = raceFirst(update);
    repository.replaceConfigIf = raceFirst(replaceConfigIf);
    let after: Record<string, unknown>;
    try {
      expect((await decide(request.id, 'approve', approverKey)).status).toBe(200);
      after = await config();
    } finally {
      repository.update = update;
      repository.replaceConfigIf = replaceConfigIf;
      await update.call(repository, t.tenantA.id, agentId, { config: baseConfig }, Date.now());
    }
    expect(raced).toBe(true);
    expect(after.allow_network).toBe(true);
    expect(after.permissions).not.toContain('data:write');
  });

  it('holds: the agent key cannot approve or deny its own request, on either route', async () => {
    const request = (await ask({ permissions: { allow_network: true } })).body;
    for (const action of ['approve', 'deny'] as const) {
      expect((await decide(request.id, action, agentKey)).status).toBe(403);
      expect((await queueDecide(request.id, action, agentKey)).status).toBe(403);
    }
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.id}`, { key: agentKey })).body.status).toBe('pending');
    expect((await config()).allow_network).toBeUndefined();
  });

  it('holds: another tenant can neither see nor decide the request', async () => {
    const request = (await ask({ permissions: { allow_network: true } })).body;
    const other = t.tenantB.adminKey;
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.id}`, { key: other })).status).toBe(404);
    expect((await t.request('GET', '/api/sdk/permission-requests', { key: other })).body.requests).toEqual([]);
    for (const action of ['approve', 'deny'] as const) {
      expect((await decide(request.id, action, other)).status).toBe(404);
      expect((await queueDecide(request.id, action, other)).status).toBe(404);
    }
    // Nor ask for an agent of tenant A.
    expect((await ask({ permissions: { allow_network: true } }, other)).status).toBe(404);
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.id}`, { key: agentKey })).body.status).toBe('pending');
  });

  it('holds: racing approvals and denials have exactly one winner, and the grant lands once', async () => {
    const request = (await ask({ permissions: { allowed_domains: ['race.example'] } })).body;
    const answers = await Promise.all(Array.from({ length: 12 }, (_unused, i) => (i % 3 === 0
      ? decide(request.id, 'deny', approverKey)
      : i % 3 === 1 ? decide(request.id, 'approve', approverKey) : queueDecide(request.id, 'approve', approverKey))));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status !== 200).every((answer) => answer.status === 409)).toBe(true);
    const final = (await t.request('GET', `/api/sdk/permission-requests/${request.id}`, { key: agentKey })).body.status;
    const domains = (await config()).allowed_domains as string[];
    expect(domains.filter((domain) => domain === 'race.example')).toHaveLength(final === 'approved' ? 1 : 0);
    const { records } = await t.services.ledger.bundle(t.tenantA.id);
    const decisions = records.filter((record) => /^permission_request\.(approved|denied)$/.test(record.type) && (record.data as { request_id?: number }).request_id === request.id);
    expect(decisions.map((record) => record.type)).toEqual([`permission_request.${final}`]);
  });

  it('holds: an expired request cannot be approved and grants nothing', async () => {
    const request = (await ask({ permissions: { allow_filesystem: true }, timeout_ms: 1 })).body;
    await sleep(20);
    const late = await decide(request.id, 'approve', approverKey);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('PERMISSION_REQUEST_DECIDED');
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.id}`, { key: agentKey })).body.status).toBe('expired');
    expect((await config()).allow_filesystem).toBeUndefined();
  });

  it('holds: an approval grants exactly what was asked (lists are unions, nothing else changes)', async () => {
    const before = await config();
    const request = (await ask({ permissions: { allowed_domains: ['api.stocks.example'], permissions: ['data:read'], allow_external_apis: true } })).body;
    expect((await decide(request.id, 'approve', approverKey)).status).toBe(200);
    const after = await config();
    expect(after.allowed_domains).toEqual([...(before.allowed_domains as string[]), 'api.stocks.example']);
    expect(after.permissions).toEqual([...(before.permissions as string[]), 'data:read']);
    expect(after.allow_external_apis).toBeUndefined();
    expect(after.allow_network).toBe(before.allow_network);
    expect(after.max_api_calls_per_run).toBe(before.max_api_calls_per_run);
  });

  it.each([
    ['a wildcard domain for everything', { allowed_domains: ['*'] }],
    ['a wildcard scope', { permissions: ['*'] }],
    ['an admin-like scope', { permissions: ['admin'] }],
    ['a key no request may grant', { sandbox_template: 'UNRESTRICTED' }],
    ['a config field outside the list', { entry_code: 'steal()' }],
    ['a credential name with a path', { credentials: ['../other-tenant/stripe'] }],
    ['an out-of-range limit', { max_api_calls_per_run: 1e12 }],
  ])('holds: refuses a request for %s', async (_name, permissions) => {
    const answer = await ask({ permissions });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('holds: one agent cannot fill the approvers\' queue (20 pending at most; deciding one frees a place)', async () => {
    const flooder = (await t.request('POST', '/api/v1/sdk/agents', { key: agentKey, body: { name: 'flooder', entry_code: 'return 1;', config: baseConfig } })).body.agent.id;
    const askAs = (agent: number) => t.request('POST', '/api/sdk/permission-requests', { key: agentKey, body: { agent_id: agent, permissions: { allow_network: true }, justification: 'please' } });
    const ids: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const created = await askAs(flooder);
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const refused = await askAs(flooder);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { pending: 20, limit: 20 } });
    expect(refused.body.error.message).toMatch(/already has 20 permission requests pending/);
    expect((await askAs(agentId)).status).toBe(201); // another agent is unaffected
    expect((await decide(ids[0]!, 'deny', approverKey)).status).toBe(200);
    expect((await askAs(flooder)).status).toBe(201);
  });

  it('holds: an oversized justification or comment is refused', async () => {
    expect((await ask({ permissions: { allow_network: true }, justification: 'x'.repeat(4001) })).status).toBe(400);
    const request = (await ask({ permissions: { allow_network: true } })).body;
    expect((await decide(request.id, 'deny', approverKey, { comment: 'x'.repeat(4001) })).status).toBe(400);
    expect((await decide(request.id, 'deny', approverKey, { approver: 'x'.repeat(201) })).status).toBe(400);
  });

  // Regression: control characters were stored as given. On PostgreSQL a NUL in a text column fails the insert (a
  // 500 for whoever sends it); in the approvals queue bidi overrides reorder what the approver reads (the
  // justification then says something else than the stored text), and terminal escapes reach anyone reading the
  // ledger export in a terminal.
  it.each([
    ['a NUL', 'needs network\u0000'],
    ['a terminal escape', 'routine\u001b[2J\u001b[Happroved by security team'],
    ['a bidi override', 'harmless \u202Eniart ekatsim a\u202C request'],
    ['a bidi isolate', 'read \u2067only\u2069 access'],
    ['a C1 control', 'a\u009bb'],
  ])('refuses %s in the justification, comment or approver name', async (_name, text) => {
    const refused = await ask({ permissions: { allow_network: true }, justification: text });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    const request = (await ask({ permissions: { allow_network: true }, justification: 'tabs\tand\nnewlines are fine' })).body;
    expect(request.justification).toBe('tabs\tand\nnewlines are fine');
    expect((await decide(request.id, 'deny', approverKey, { comment: text })).status).toBe(400);
    expect((await decide(request.id, 'deny', approverKey, { approver: text })).status).toBe(400);
    expect((await queueDecide(request.id, 'deny', approverKey)).status).toBe(200);
  });
});

describe('permission requests: an approval that cannot be granted', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  // Regression: the request was marked approved (ledger: permission_request.approved, the SDK's long poll: approved)
  // before the grant was tried, so when the agent was gone the approver got a 404 and the record said approved.
  it('leaves the request pending when its agent no longer exists', async () => {
    const key = t.tenantA.adminKey;
    const agent = (await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'short-lived', entry_code: 'return 1;' } })).body.agent;
    const request = (await t.request('POST', '/api/sdk/permission-requests', { key, body: { agent_id: agent.id, permissions: { allow_network: true } } })).body;
    expect((await t.request('DELETE', `/api/v1/sdk/agents/${agent.id}`, { key })).status).toBe(200);
    const approval = await t.request('POST', `/api/sdk/permission-requests/${request.id}/approve`, { key, body: {} });
    expect(approval.status).toBe(404);
    expect((await t.request('GET', `/api/sdk/permission-requests/${request.id}`, { key })).body.status).toBe('pending');
    const { records } = await t.services.ledger.bundle(t.tenantA.id);
    expect(records.some((record) => record.type === 'permission_request.approved')).toBe(false);
  });
});
