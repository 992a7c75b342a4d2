import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const examplePolicy = readFileSync(fileURLToPath(new URL('../../../examples/policies/support-agent.yaml', import.meta.url)), 'utf8');

describe('/v1/enforce', () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer();
    key = t.tenantA.adminKey;
  });
  afterAll(async () => {
    await t.close();
  });

  const enforce = (body: Record<string, unknown>, asKey = key) => t.request('POST', '/v1/enforce', { key: asKey, body });

  it('without a policy and without a scope answers BLOCK, says why, and records the decision', async () => {
    const res = await enforce({ agentId: 'bot', toolName: 'send_email', arguments: { to: 'x@evil.example' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: 'BLOCK', policyVersion: null, holdToken: null });
    expect(res.body.reason).toContain('no policy is loaded');
    const stored = await t.store.decisions.get(t.tenantA.id, res.body.decisionId);
    expect(stored).toMatchObject({ decision: 'BLOCK', agentId: 'bot', toolName: 'send_email', arguments: { to: 'x@evil.example' } });
  });

  it('without a policy, the declared approvedScope decides', async () => {
    const inScope = await enforce({ agentId: 'bot', toolName: 'search', approvedScope: ['search'], arguments: {} });
    const outside = await enforce({ agentId: 'bot', toolName: 'delete', approvedScope: ['search'], arguments: {} });
    expect([inScope.body.decision, outside.body.decision]).toEqual(['ALLOW', 'BLOCK']);
    expect(outside.body.violationId).toMatch(/^vio_/);
  });

  it('refuses another tenant id, missing fields and enormous bodies with an error envelope', async () => {
    const mismatch = await enforce({ agentId: 'bot', toolName: 'x', tenantId: t.tenantB.id });
    expect(mismatch.status).toBe(403);
    expect(mismatch.body.error.code).toBe('TENANT_MISMATCH');
    const missing = await enforce({ toolName: 'x' });
    expect(missing.status).toBe(400);
    const badMode = await enforce({ agentId: 'bot', toolName: 'x', enforcement: 'lenient' });
    expect(badMode.status).toBe(400);
    // One detail that lists the allowed values (was "must be equal to constant" once per value, then "anyOf").
    expect(badMode.body.error.details).toEqual([{ field: 'body/enforcement', message: 'must be one of "observe", "block", "step_up", "progressive"' }]);
    expect(badMode.body.error.message).toBe('body/enforcement must be one of "observe", "block", "step_up", "progressive"');
    const huge = await enforce({ agentId: 'bot', toolName: 'x', arguments: { blob: 'x'.repeat(2_000_000) } });
    expect(huge.status).toBe(413);
    const deepBody = `{"agentId":"bot","toolName":"x","approvedScope":["x"],"arguments":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const deep = await fetch(`${t.url}/v1/enforce`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: deepBody });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const deepOutput = await t.request('POST', '/v1/enforce/output', { key, body: { agentId: 'bot', toolName: 'x', output: JSON.parse(`${'{"a":'.repeat(100)}1${'}'.repeat(100)}`) } });
    expect(deepOutput.status).toBe(400);
    // Regression: an output check without the output answered "output allowed" without scanning anything.
    const noOutput = await t.request('POST', '/v1/enforce/output', { key, body: { agentId: 'bot', toolName: 'x' } });
    expect(noOutput.status).toBe(400);
    expect(noOutput.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(noOutput.body.error)).toContain('output');
    expect((await t.request('POST', '/v1/enforce/output', { key, body: { agentId: 'bot', toolName: 'x', output: null } })).status).toBe(200);
  });

  describe('with the example policy active', () => {
    beforeAll(async () => {
      const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'support', source: examplePolicy, activate: true } });
      expect(created.status).toBe(201);
    });

    it('applies sequence and data-flow rules across calls of one session', async () => {
      const session = { agentId: 'support-bot', sessionId: 'flow-1', userId: 'alice' };
      const read = await enforce({ ...session, toolName: 'read_customer', arguments: { id: 7 } });
      expect(read.body).toMatchObject({ decision: 'ALLOW', captureOutput: true, policyVersion: 1 });
      const output = await t.request('POST', '/v1/enforce/output', {
        key, body: { agentId: 'support-bot', sessionId: 'flow-1', decisionId: read.body.decisionId, toolName: 'read_customer', output: { email: 'jane@customer.example' } },
      });
      expect(output.body).toMatchObject({ decision: 'ALLOW', violationId: null });
      const outside = await enforce({ ...session, toolName: 'send_email', arguments: { to: 'x@evil.example', body: 'hi' } });
      expect(outside.body.decision).toBe('BLOCK');
      expect(outside.body.matchedRules).toContain('no-email-outside-after-customer-read');
      const leak = await enforce({ ...session, toolName: 'http_post', arguments: { body: 'mail JANE@customer.example' } });
      expect(leak.body.matchedRules).toContain('no-customer-pii-outbound');
      // The example's data-flow rule is agent-wide: another session of the agent carries the value too.
      const other = await enforce({ ...session, sessionId: 'flow-2', toolName: 'http_post', arguments: { body: 'mail jane@customer.example' } });
      expect(other.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['no-customer-pii-outbound'] });
      const clean = await enforce({ ...session, sessionId: 'flow-2', toolName: 'http_post', arguments: { body: 'status: all good' } });
      expect(clean.body.decision).toBe('ALLOW');
    });

    it('concurrent calls of one session are serialized: progressive mode escalates exactly once', async () => {
      const calls = Array.from({ length: 10 }, (_, i) => enforce({ agentId: 'support-bot', sessionId: 'progressive-1', toolName: 'drop_tables', enforcement: 'progressive', callId: `c${i}` }));
      const decisions = (await Promise.all(calls)).map((res) => res.body.decision);
      expect(decisions.filter((d) => d === 'STEP_UP')).toHaveLength(1);
      expect(decisions.filter((d) => d === 'BLOCK')).toHaveLength(9);
    });

    it('in observe mode allows and reports what would have happened', async () => {
      const res = await enforce({ agentId: 'support-bot', toolName: 'drop_tables', enforcement: 'observe' });
      expect(res.body).toMatchObject({ decision: 'ALLOW', wouldHaveBeen: 'BLOCK', mode: 'observe' });
      expect(res.body.violationId).toMatch(/^vio_/);
    });
  });
});

const pgUrl = postgresTestUrl('enforcement API');
const DIALECTS: Array<[string, string | undefined, boolean]> = [['sqlite', undefined, true], ['postgres', pgUrl, Boolean(pgUrl)]];

for (const [dialect, postgresUrl, enabled] of DIALECTS) describe.skipIf(!enabled)(`holds and approvals on ${dialect}`, () => {
  let t: TestServer;
  let key: string;
  const refund = { agentId: 'support-bot', sessionId: 'hold-1', toolName: 'issue_refund', arguments: { amount: 900 } };

  beforeAll(async () => {
    t = await startTestServer({ postgresUrl });
    key = t.tenantA.adminKey;
    await t.request('POST', '/api/v1/policies', { key, body: { name: 'support', source: examplePolicy, activate: true } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a STEP_UP waits in a long poll that an approval releases; the approval is good for that exact call once', async () => {
    const first = await t.request('POST', '/v1/enforce', { key, body: refund });
    expect(first.body).toMatchObject({ decision: 'STEP_UP' });
    const token: string = first.body.holdToken;
    expect(token).toMatch(/^hold_/);
    const waiting = t.request('GET', `/v1/enforce/hold/${token}?waitMs=20000`, { key });
    const queue = await t.request('GET', '/api/v1/approvals?status=pending', { key });
    expect(queue.body.items.map((item: { id: string }) => item.id)).toContain(token);
    const approved = await t.request('POST', `/api/v1/approvals/${token}/approve`, { key, body: { approver: 'carol', comment: 'ok' } });
    expect(approved.body).toMatchObject({ status: 'approved', approver: 'carol' });
    const released = await waiting;
    expect(released.headers.get('x-tollgate-long-poll')).toBe('1');
    expect(released.body).toMatchObject({ status: 'approved', decision: 'ALLOW', approver: 'carol', comment: 'ok' });

    const otherArgs = await t.request('POST', '/v1/enforce', { key, body: { ...refund, arguments: { amount: 950 }, holdToken: token } });
    expect(otherArgs.body.decision).toBe('BLOCK');
    expect(otherArgs.body.reason).toContain('different action');
    const same = await t.request('POST', '/v1/enforce', { key, body: { ...refund, holdToken: token } });
    expect(same.body.decision).toBe('ALLOW');
    const again = await t.request('POST', '/v1/enforce', { key, body: { ...refund, holdToken: token } });
    expect(again.body.decision).toBe('BLOCK');
    expect(again.body.reason).toContain('already used');
  });

  it('a denied hold answers BLOCK with the approver and comment; deciding twice is a conflict', async () => {
    const first = await t.request('POST', '/v1/enforce', { key, body: { ...refund, sessionId: 'hold-2' } });
    const token: string = first.body.holdToken;
    const denied = await t.request('POST', `/api/v1/approvals/${token}/deny`, { key, body: { approver: 'dave', comment: 'no' } });
    expect(denied.body.status).toBe('denied');
    const status = await t.request('GET', `/v1/enforce/hold/${token}`, { key });
    expect(status.body).toMatchObject({ status: 'denied', decision: 'BLOCK', approver: 'dave', comment: 'no' });
    const twice = await t.request('POST', `/api/v1/approvals/${token}/approve`, { key, body: {} });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('HOLD_DECIDED');
  });

  it('holds of one tenant are invisible to another', async () => {
    const first = await t.request('POST', '/v1/enforce', { key, body: { ...refund, sessionId: 'hold-3' } });
    const foreign = await t.request('GET', `/v1/enforce/hold/${first.body.holdToken}`, { key: t.tenantB.adminKey });
    expect(foreign.status).toBe(404);
    const approve = await t.request('POST', `/api/v1/approvals/${first.body.holdToken}/approve`, { key: t.tenantB.adminKey, body: {} });
    expect(approve.status).toBe(404);
  });

  it('the approvals stream announces a new hold and its decision', async () => {
    const controller = new AbortController();
    const response = await fetch(`${t.url}/api/v1/approvals/stream`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil('event: connected');
    const step = await t.request('POST', '/v1/enforce', { key, body: { ...refund, sessionId: 'stream-1' } });
    await readUntil(`"id":"${step.body.holdToken}","status":"pending"`);
    await t.request('POST', `/api/v1/approvals/${step.body.holdToken}/deny`, { key, body: {} });
    await readUntil(`"id":"${step.body.holdToken}","status":"denied"`);
    controller.abort();
    expect(text).toContain('event: approval');
  });

  it('sandbox permission requests share the queue and are approved through it', async () => {
    const { agent } = await t.services.sandboxAgents.upsert(t.tenantA.id, { name: `perm-agent-${dialect}`, entry_code: 'return 1;' }, null);
    const request = await t.services.permissionRequests.create(t.tenantA.id, { agent_id: agent.id, permissions: { allow_network: true }, justification: 'needs the weather API' }, null);
    const queue = await t.request('GET', '/api/v1/approvals?status=pending&kind=permission_request', { key });
    expect(queue.body.items).toContainEqual(expect.objectContaining({ kind: 'permission_request', id: `perm_${request.id}`, reason: 'needs the weather API' }));
    const approved = await t.request('POST', `/api/v1/approvals/perm_${request.id}/approve`, { key, body: { approver: 'frank' } });
    expect(approved.body).toMatchObject({ kind: 'permission_request', status: 'approved', approver: 'frank' });
    expect((await t.services.permissionRequests.get(t.tenantA.id, request.id)).status).toBe('approved');
  });

  it('unknown approval ids are a 404', async () => {
    const res = await t.request('POST', '/api/v1/approvals/nope_1/approve', { key, body: {} });
    expect(res.status).toBe(404);
  });
});

for (const [dialect, postgresUrl, enabled] of DIALECTS) describe.skipIf(!enabled)(`kill switch on ${dialect}`, () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer({ postgresUrl });
    key = t.tenantA.adminKey;
  });
  afterAll(async () => {
    await t.close();
  });

  const call = (agentId: string, asKey = key) => t.request('POST', '/v1/enforce', { key: asKey, body: { agentId, toolName: 'search', approvedScope: ['search'], enforcement: 'observe' } });

  it('halts one agent with its reason, in every mode, and publishes on the kill channel; unkill brings it back', async () => {
    const messages: unknown[] = [];
    const off = t.services.bus.subscribe('kill', (payload) => messages.push(payload));
    const kill = await t.request('POST', '/api/sdk/agents/bot-1/kill', { key, body: { reason: 'leaking data' } });
    expect(kill.body).toMatchObject({ success: true, halted: true, scope: 'agent', agent_id: 'bot-1' });
    const blocked = await call('bot-1');
    expect(blocked.body.decision).toBe('BLOCK');
    expect(blocked.body.reason).toContain('leaking data');
    expect((await call('bot-2')).body.decision).toBe('ALLOW');
    expect((await call('bot-1', t.tenantB.adminKey)).body.decision).toBe('ALLOW');
    await t.request('POST', '/api/sdk/agents/bot-1/unkill', { key, body: {} });
    expect((await call('bot-1')).body.decision).toBe('ALLOW');
    off();
    expect(messages).toContainEqual(expect.objectContaining({ tenantId: t.tenantA.id, agentId: 'bot-1', halted: true, reason: 'leaking data' }));
  });

  it('the global switch halts every agent of the tenant until halted:false', async () => {
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: true, reason: 'incident 42' } });
    const state = await t.request('GET', '/api/sdk/kill-switch', { key });
    expect(state.body.global).toMatchObject({ halted: true, reason: 'incident 42' });
    const blocked = await call('any-agent');
    expect(blocked.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['kill-switch'] });
    expect(blocked.body.reason).toContain('incident 42');
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: false, reason: 'resolved' } });
    expect((await call('any-agent')).body.decision).toBe('ALLOW');
  });
});
