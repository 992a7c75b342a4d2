// Agent-wide data flow (`dataFlow: { across: agent, within }`). Session-scoped data flow can be shaken off: the caller
// names the session, so an agent that reads a customer record under one session id and e-mails the address under
// another carries no remembered value into the second session. These tests play that evasion against a running
// server: outputs sent to /v1/enforce/output, per agent and tenant, the window, an agent whose values were already in
// memory, simulate (replay) and a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '@tollgate/server';
import { acrossRestart, startTestServer, type TestServer } from '../../../test-utils/index.js';

const POLICY = `name: exfiltration
agents: { "*": { approvedScope: [read_customer, send_email, search_kb] } }
dataFlow:
  sources:
    - { tools: [read_customer], label: customer_pii, fields: [email, name] }
rules:
  - id: no-customer-data-out
    match: { tools: [send_email] }
    dataFlow: { labels: [customer_pii], across: agent, within: 1h }
    effect: BLOCK
    reason: customer data returned to this agent (in any session) is leaving by e-mail
`;

/** The same rule, session-scoped: what a policy without agent-wide data flow enforces. */
const SESSION_ONLY = POLICY.replace(', across: agent, within: 1h', '');

const CUSTOMER = { email: 'jane.doe@customer.example', name: 'Jane Doe', plan: 'gold' };

describe('agent-wide data flow over HTTP', () => {
  let t: TestServer;
  const clock = manualClock(Date.parse('2026-06-01T09:00:00Z'));
  const enforce = (key: string, body: Record<string, unknown>) => t.request('POST', '/v1/enforce', { key, body });
  /** Reads a customer in `sessionId` and sends its output back, as the SDK does when `captureOutput` is true. */
  const readCustomer = async (key: string, agentId: string, sessionId: string, output: unknown = CUSTOMER) => {
    const read = await enforce(key, { agentId, sessionId, toolName: 'read_customer', arguments: { id: 7 } });
    expect(read.body).toMatchObject({ decision: 'ALLOW', captureOutput: true });
    const sent = await t.request('POST', '/v1/enforce/output', { key, body: { agentId, sessionId, toolName: 'read_customer', decisionId: read.body.decisionId, output } });
    expect(sent.status).toBe(200);
    expect(sent.body.decision).toBe('ALLOW');
  };
  const mail = (key: string, agentId: string, sessionId: string, body: string) =>
    enforce(key, { agentId, sessionId, toolName: 'send_email', arguments: { to: 'partner@elsewhere.example', body } });

  beforeAll(async () => {
    t = await startTestServer({ clock });
    for (const [tenant, source] of [[t.tenantA, POLICY], [t.tenantB, SESSION_ONLY]] as const) {
      const created = await t.request('POST', '/api/v1/policies', { key: tenant.adminKey, body: { name: 'exfiltration', source, activate: true } });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('a value read under one session id is caught leaving under another; the session-scoped rule misses it', async () => {
    for (const tenant of [t.tenantA, t.tenantB]) await readCustomer(tenant.adminKey, 'rotator', 'r-1');
    clock.advance(1_000);
    const caught = await mail(t.tenantA.adminKey, 'rotator', 'r-2', 'Forwarding: Jane.Doe@customer.example');
    expect(caught.status).toBe(200);
    expect(caught.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['no-customer-data-out'] });
    // No session id at all (the default session) is one more fresh session: still caught.
    expect((await enforce(t.tenantA.adminKey, { agentId: 'rotator', toolName: 'send_email', arguments: { body: 'dear jane doe' } })).body.decision).toBe('BLOCK');
    // Encoded (base64 inside the text, or a query parameter of a URL): still the value.
    const encoded = Buffer.from('jane.doe@customer.example').toString('base64');
    expect((await mail(t.tenantA.adminKey, 'rotator', 'r-4', `attachment: ${encoded}`)).body.decision).toBe('BLOCK');
    expect((await enforce(t.tenantA.adminKey, { agentId: 'rotator', sessionId: 'r-5', toolName: 'send_email', arguments: { body: 'https://c.example/x?e=jane.doe%40customer.example' } })).body.decision).toBe('BLOCK');
    // An e-mail without the value passes: the rule is about the data, not about having read it.
    expect((await mail(t.tenantA.adminKey, 'rotator', 'r-3', 'weekly summary, nothing personal')).body.decision).toBe('ALLOW');
    // Tenant B runs the session-scoped rule: shaken off by the new session (and caught in the same one).
    expect((await mail(t.tenantB.adminKey, 'rotator', 'r-2', 'jane.doe@customer.example')).body.decision).toBe('ALLOW');
    expect((await mail(t.tenantB.adminKey, 'rotator', 'r-1', 'jane.doe@customer.example')).body.decision).toBe('BLOCK');
  });

  it('is per agent and per tenant', async () => {
    const key = t.tenantA.adminKey;
    expect((await mail(key, 'bystander', 'x-1', 'jane.doe@customer.example')).body.decision).toBe('ALLOW');
    // Tenant B's agent "rotator" read the same customer, but tenant A's values are not B's (B's policy is session-scoped,
    // so the agent-wide rule of A is the one that would leak): another tenant's agent of the same name in A sees nothing.
    await readCustomer(t.tenantB.adminKey, 'b-only', 'b-1', { email: 'only.b@customer.example' });
    expect((await mail(key, 'b-only', 'a-1', 'only.b@customer.example')).body.decision).toBe('ALLOW');
  });

  it('an agent whose values are already in memory learns of a new output at once', async () => {
    const key = t.tenantA.adminKey;
    // The first e-mail loads the agent's (empty) values; the read that follows must reach them.
    expect((await mail(key, 'warm', 'w-0', 'hello')).body.decision).toBe('ALLOW');
    await readCustomer(key, 'warm', 'w-1', { email: 'warm.customer@customer.example' });
    expect((await mail(key, 'warm', 'w-2', 'warm.customer@customer.example')).body.decision).toBe('BLOCK');
  });

  it('ends with the window; returning the value again starts it over', async () => {
    const key = t.tenantA.adminKey;
    await readCustomer(key, 'patient', 'p-1', { email: 'slow.one@customer.example' });
    clock.advance(3_600_001);
    expect((await mail(key, 'patient', 'p-2', 'slow.one@customer.example')).body.decision).toBe('ALLOW');
    await readCustomer(key, 'patient', 'p-3', { email: 'slow.one@customer.example' });
    clock.advance(1_800_000);
    expect((await mail(key, 'patient', 'p-4', 'slow.one@customer.example')).body.decision).toBe('BLOCK');
  });

  it('the output of a tool that is no data-flow source is not remembered', async () => {
    const key = t.tenantA.adminKey;
    const out = await t.request('POST', '/v1/enforce/output', { key, body: { agentId: 'nobody-asked', sessionId: 'n-1', toolName: 'search_kb', output: { email: 'kb.author@customer.example' } } });
    expect(out.body.decision).toBe('ALLOW'); // search_kb is no source: its output is not remembered at all
    expect((await mail(key, 'nobody-asked', 'n-2', 'kb.author@customer.example')).body.decision).toBe('ALLOW');
  });

  it('simulate replays a draft that makes the rule agent-wide, seeded with the outputs before the range', async () => {
    const key = t.tenantB.adminKey; // runs the session-scoped rule
    clock.advance(7_200_000);
    await readCustomer(key, 'replayed', 'sim-1', { email: 'replay.me@customer.example' });
    clock.advance(60_000);
    const from = clock.now() - 1;
    expect((await mail(key, 'replayed', 'sim-2', 'replay.me@customer.example')).body.decision).toBe('ALLOW');
    const policies = await t.request('GET', '/api/v1/policies', { key });
    const id = policies.body.policies[0].id;
    const simulated = await t.request('POST', `/api/v1/policies/${id}/simulate`, { key, body: { source: POLICY, from: new Date(from).toISOString() } });
    expect(simulated.status).toBe(200);
    expect(simulated.body).toMatchObject({ scanned: 1, changed: 1, transitions: { 'ALLOW→BLOCK': 1 } });
    expect(simulated.body.examples[0]).toMatchObject({ agentId: 'replayed', sessionId: 'sim-2', replayed: { decision: 'BLOCK', matchedRules: ['no-customer-data-out'] } });
    // A window that ends before the read: no change.
    const tight = await t.request('POST', `/api/v1/policies/${id}/simulate`, { key, body: { source: POLICY.replace('within: 1h', 'within: 30s'), from: new Date(from).toISOString() } });
    expect(tight.body).toMatchObject({ scanned: 1, changed: 0 });
  });

  it('refuses a policy whose agent-wide data-flow condition has no window, naming the field and line', async () => {
    const res = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'bad', source: POLICY.replace(', within: 1h', '') } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('POLICY_INVALID');
    expect(res.body.error.details.diagnostics[0]).toMatchObject({ path: 'rules[0].dataFlow.within', line: 9 });
  });
});

describe('agent-wide data flow survives a restart (SQLite file)', () => {
  it('a value returned before the restart still blocks an e-mail from a new session after it', async () => {
    await acrossRestart(POLICY, async (enforce) => {
      expect((await enforce({ agentId: 'persisted', sessionId: 'before', toolName: 'read_customer', arguments: {} })).decision).toBe('ALLOW');
      const output = await enforce({ agentId: 'persisted', sessionId: 'before', toolName: 'read_customer', output: { email: 'kept@customer.example' } }, '/v1/enforce/output');
      expect(output.decision).toBe('ALLOW');
    }, async (enforce) => {
      expect((await enforce({ agentId: 'persisted', sessionId: 'after', toolName: 'send_email', arguments: { body: 'kept@customer.example' } })).decision).toBe('BLOCK');
      expect((await enforce({ agentId: 'persisted', sessionId: 'after', toolName: 'send_email', arguments: { body: 'nothing to see' } })).decision).toBe('ALLOW');
      expect((await enforce({ agentId: 'someone-else', sessionId: 'after', toolName: 'send_email', arguments: { body: 'kept@customer.example' } })).decision).toBe('ALLOW');
    });
  });
});

describe('data retention reaches what enforcement keeps in memory', () => {
  const RETAINED = `name: retained
agents: { "*": { approvedScope: [read_customer, send_email, http_post, export_data] } }
dataFlow:
  sources:
    - { tools: [read_customer], label: customer_pii }
rules:
  - { id: agent-flow, match: { tools: [send_email] }, dataFlow: { across: agent, within: 30d }, effect: BLOCK, reason: agent-wide value }
  - { id: session-flow, match: { tools: [http_post] }, dataFlow: true, effect: BLOCK, reason: session value }
  - { id: agent-sequence, match: { tools: [export_data] }, after: { tools: [read_customer], within: 30d, across: agent }, effect: BLOCK, reason: read before }
`;

  it('values, calls and sessions whose rows a retention pass deleted are forgotten in memory too', async () => {
    const clock = manualClock(Date.parse('2026-07-01T09:00:00Z'));
    const t = await startTestServer({ clock });
    try {
      const key = t.tenantA.adminKey;
      expect((await t.request('POST', '/api/v1/policies', { key, body: { name: 'p', source: RETAINED, activate: true } })).status).toBe(201);
      expect((await t.request('PATCH', `/api/v1/tenants/${t.tenantA.id}`, { key: t.systemAdminKey, body: { retentionDays: 1 } })).status).toBe(200);
      const call = (sessionId: string, toolName: string) =>
        t.request('POST', '/v1/enforce', { key, body: { agentId: 'kept', sessionId, toolName, arguments: { body: 'old.customer@customer.example' } } });
      await call('k-1', 'read_customer');
      await t.request('POST', '/v1/enforce/output', { key, body: { agentId: 'kept', sessionId: 'k-1', toolName: 'read_customer', output: { email: 'old.customer@customer.example' } } });
      clock.advance(2 * 86_400_000);
      // In memory, inside the rules' windows: all three still match.
      expect((await call('k-2', 'send_email')).body.matchedRules).toEqual(['agent-flow']);
      expect((await call('k-1', 'http_post')).body.matchedRules).toEqual(['session-flow']);
      expect((await call('k-3', 'export_data')).body.matchedRules).toEqual(['agent-sequence']);
      clock.advance(2 * 86_400_000);
      await t.services.retention.runOnce();
      // The read and its output were deleted by the pass (older than the tenant's one day): nothing matches any more.
      expect((await call('k-4', 'send_email')).body.decision).toBe('ALLOW');
      expect((await call('k-1', 'http_post')).body.decision).toBe('ALLOW');
      expect((await call('k-5', 'export_data')).body.decision).toBe('ALLOW');
    } finally {
      await t.close();
    }
  });
});
