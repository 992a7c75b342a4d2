import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// A release can refuse a construct an earlier one compiled (CEL `matches()` since session 4). An active version stored
// before the upgrade then no longer compiles: every call must still get a decision, a BLOCK that says why, recorded,
// never an ALLOW and not a bare error the agent cannot act on.

const valid = `
name: upgraded
agents:
  bot: { approvedScope: [search], enforcement: observe }
rules:
  - { id: odd, match: { tools: [search] }, when: "args.q == 'x'", effect: BLOCK, reason: odd query }
`;

const broken = `
name: upgraded
agents:
  bot: { approvedScope: [search], enforcement: observe }
rules:
  - id: odd
    match: { tools: [search] }
    when: "args.q.matches('^(a+)+$')"
    effect: BLOCK
    reason: odd query
`;

describe('an active policy that no longer compiles', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    const created = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'upgraded', source: valid, activate: true } });
    expect(created.status).toBe(201);
    // What an older release stored: a condition this one refuses at compile time.
    const native = t.store.native;
    if (native.dialect !== 'sqlite') throw new Error('this test edits the SQLite store');
    native.database.prepare('UPDATE policy_versions SET source = ? WHERE tenant_id = ?').run(broken, t.tenantA.id);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses every call with a recorded BLOCK that names the reason, even in observe mode', async () => {
    const res = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot', toolName: 'search', arguments: { q: 'y' }, enforcement: 'observe' } });
    expect(res.status).toBe(200);
    expect(res.body.decision).toBe('BLOCK');
    expect(res.body.reason).toMatch(/active policy no longer compiles/);
    expect(res.body.reason).toMatch(/matches\(\)/);
    expect(res.body.matchedRules).toEqual(['policy-invalid']);
    const decisions = await t.request('GET', '/api/v1/dashboard/violations?limit=10', { key: t.tenantA.adminKey });
    expect(decisions.status).toBe(200);
    expect(JSON.stringify(decisions.body)).toMatch(/no longer compiles/);
  });

  it('other tenants keep deciding', async () => {
    const res = await t.request('POST', '/v1/enforce', { key: t.tenantB.adminKey, body: { agentId: 'bot', toolName: 'search', arguments: { q: 'y' } } });
    expect(res.status).toBe(200);
    expect(res.body.reason).not.toMatch(/no longer compiles/);
  });
});
