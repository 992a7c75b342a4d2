// Agent-wide sequence conditions (`after.across: agent`). The caller names the session, so session-scoped history can
// be shaken off by sending every call under a fresh session id: read a customer in session 1, e-mail it out in
// session 2. These tests play that evasion against a running server, across a restart, across agents and tenants,
// against concurrent first calls of an agent, and through simulate (replay).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '@tollgate/server';
import { acrossRestart, startTestServer, type TestServer } from '../../../test-utils/index.js';

const POLICY = `name: exfiltration
agents: { "*": { approvedScope: [read_customer, send_email, list_orders, "kb_*"] } }
rules:
  - id: no-mail-after-customer
    match: { tools: [send_email] }
    after: { tools: [read_customer], within: 1h, across: agent }
    effect: BLOCK
    reason: no e-mail within an hour of reading a customer record, in any session
`;

/** The same rule, session-scoped: what a policy without agent-wide history enforces. */
const SESSION_ONLY = POLICY.replace(', across: agent', '');

describe('agent-wide sequence conditions over HTTP', () => {
  let t: TestServer;
  const clock = manualClock(Date.parse('2026-06-01T09:00:00Z'));
  const enforce = (key: string, body: Record<string, unknown>) => t.request('POST', '/v1/enforce', { key, body });

  beforeAll(async () => {
    t = await startTestServer({ clock });
    for (const tenant of [t.tenantA, t.tenantB]) {
      const created = await t.request('POST', '/api/v1/policies', { key: tenant.adminKey, body: { name: 'exfiltration', source: POLICY, activate: true } });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('a fresh session id per call does not shake off what the agent did', async () => {
    const key = t.tenantA.adminKey;
    expect((await enforce(key, { agentId: 'rotator', sessionId: 'r-1', toolName: 'read_customer', arguments: { id: 7 } })).body.decision).toBe('ALLOW');
    clock.advance(1_000);
    const mail = await enforce(key, { agentId: 'rotator', sessionId: 'r-2', toolName: 'send_email', arguments: { to: 'x@evil.example' } });
    expect(mail.status).toBe(200);
    expect(mail.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['no-mail-after-customer'] });
    // No session id at all (the default session) is one more fresh session: still blocked.
    expect((await enforce(key, { agentId: 'rotator', toolName: 'send_email', arguments: {} })).body.decision).toBe('BLOCK');
  });

  it('is per agent and per tenant', async () => {
    // Same agent id, other tenant: its history is its own.
    expect((await enforce(t.tenantB.adminKey, { agentId: 'rotator', sessionId: 'b-1', toolName: 'send_email', arguments: {} })).body.decision).toBe('ALLOW');
    // Another agent of the same tenant.
    expect((await enforce(t.tenantA.adminKey, { agentId: 'bystander', sessionId: 'x-1', toolName: 'send_email', arguments: {} })).body.decision).toBe('ALLOW');
  });

  it('ends with the window, and a blocked read is not history', async () => {
    const key = t.tenantA.adminKey;
    clock.advance(3_600_001);
    expect((await enforce(key, { agentId: 'rotator', sessionId: 'r-3', toolName: 'send_email', arguments: {} })).body.decision).toBe('ALLOW');
    // A read the policy refuses (outside the request's own scope) never ran: no history, no block afterwards.
    const refused = await enforce(key, { agentId: 'careful', sessionId: 'c-1', toolName: 'read_customer', approvedScope: ['send_email'], arguments: {} });
    expect(refused.body.decision).toBe('BLOCK');
    expect((await enforce(key, { agentId: 'careful', sessionId: 'c-2', toolName: 'send_email', arguments: {} })).body.decision).toBe('ALLOW');
  });

  it('calling 1,000 other in-scope tools does not push the read out of the agent history', async () => {
    const key = t.tenantA.adminKey;
    expect((await enforce(key, { agentId: 'flooder', sessionId: 'f-0', toolName: 'read_customer', arguments: {} })).body.decision).toBe('ALLOW');
    for (let start = 0; start < 1_000; start += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, i) => enforce(key, { agentId: 'flooder', sessionId: `f-${start + i + 1}`, toolName: `kb_${start + i}`, arguments: {} })));
      expect(batch.every((res) => res.body.decision === 'ALLOW')).toBe(true);
    }
    expect((await enforce(key, { agentId: 'flooder', sessionId: 'f-last', toolName: 'send_email', arguments: {} })).body.decision).toBe('BLOCK');
  });

  it('concurrent first calls of an agent share one history (no lost update while it loads)', async () => {
    const key = t.tenantA.adminKey;
    const reads = await Promise.all(Array.from({ length: 20 }, (_, i) => enforce(key, { agentId: 'burst', sessionId: `burst-${i}`, toolName: i === 7 ? 'read_customer' : 'list_orders', arguments: {} })));
    expect(reads.every((res) => res.body.decision === 'ALLOW')).toBe(true);
    clock.advance(1_000);
    expect((await enforce(key, { agentId: 'burst', sessionId: 'burst-new', toolName: 'send_email', arguments: {} })).body.decision).toBe('BLOCK');
  });

  it('simulate replays a draft that adds the agent-wide rule, seeded with the calls before the range', async () => {
    const key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'session-only', source: SESSION_ONLY, activate: true } });
    expect(created.status).toBe(201);
    clock.advance(7_200_000);
    await enforce(key, { agentId: 'replayed', sessionId: 'p-1', toolName: 'read_customer', arguments: {} });
    clock.advance(60_000);
    const from = clock.now() - 1;
    const allowed = await enforce(key, { agentId: 'replayed', sessionId: 'p-2', toolName: 'send_email', arguments: {} });
    expect(allowed.body.decision).toBe('ALLOW'); // the session-scoped rule is shaken off
    const simulated = await t.request('POST', `/api/v1/policies/${created.body.id}/simulate`, { key, body: { source: POLICY, from: new Date(from).toISOString() } });
    expect(simulated.status).toBe(200);
    expect(simulated.body).toMatchObject({ scanned: 1, changed: 1, transitions: { 'ALLOW→BLOCK': 1 } });
    expect(simulated.body.examples[0]).toMatchObject({ agentId: 'replayed', sessionId: 'p-2', replayed: { decision: 'BLOCK', matchedRules: ['no-mail-after-customer'] } });
  });

  it('simulate seeds a window of several days (read 36 hours before the range, rule window 2 days)', async () => {
    const key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'session-only-2', source: SESSION_ONLY, activate: true } });
    expect(created.status).toBe(201);
    clock.advance(7_200_000);
    await enforce(key, { agentId: 'slow-reader', sessionId: 'd-1', toolName: 'read_customer', arguments: {} });
    clock.advance(36 * 3_600_000);
    const from = clock.now() - 1;
    expect((await enforce(key, { agentId: 'slow-reader', sessionId: 'd-2', toolName: 'send_email', arguments: {} })).body.decision).toBe('ALLOW');
    const twoDays = POLICY.replace('within: 1h', 'within: 2d');
    const simulated = await t.request('POST', `/api/v1/policies/${created.body.id}/simulate`, { key, body: { source: twoDays, from: new Date(from).toISOString() } });
    expect(simulated.body).toMatchObject({ scanned: 1, changed: 1, transitions: { 'ALLOW→BLOCK': 1 } });
    const oneHour = await t.request('POST', `/api/v1/policies/${created.body.id}/simulate`, { key, body: { source: POLICY, from: new Date(from).toISOString() } });
    expect(oneHour.body).toMatchObject({ scanned: 1, changed: 0 });
  });

  it('refuses a policy whose agent-wide condition has no window, naming the field', async () => {
    const res = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'bad', source: POLICY.replace('within: 1h, ', '') } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('POLICY_INVALID');
    expect(res.body.error.details.diagnostics[0]).toMatchObject({ path: 'rules[0].after.within', line: 6 });
  });
});

describe('agent-wide history survives a restart (SQLite file)', () => {
  it('a read before the restart still blocks an e-mail from a new session after it', async () => {
    await acrossRestart(POLICY, async (enforce) => {
      expect((await enforce({ agentId: 'persisted', sessionId: 'before', toolName: 'read_customer' })).decision).toBe('ALLOW');
    }, async (enforce) => {
      expect((await enforce({ agentId: 'persisted', sessionId: 'after', toolName: 'send_email' })).decision).toBe('BLOCK');
      expect((await enforce({ agentId: 'someone-else', sessionId: 'after', toolName: 'send_email' })).decision).toBe('ALLOW');
    });
  });
});
