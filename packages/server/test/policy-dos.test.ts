import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// The policy routes end to end: each source below used to stall the event loop, crash the process or
// throw out of the compiler (a 500); now it is a POLICY_INVALID answer or a lint diagnostic.

const laughs = (() => {
  let text = 'name: x\ndescription:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
  for (let level = 1; level <= 9; level += 1) text += `  l${level}: &l${level} [${Array.from({ length: 9 }, () => `*l${level - 1}`).join(', ')}]\n`;
  return text;
})();
const rule = (when: string) => `agents: { bot: { approvedScope: [t] } }\nrules:\n  - { id: r, match: { tools: [t] }, when: ${JSON.stringify(when)}, effect: BLOCK }\n`;

describe('DoS: adversarial policy sources on the policy routes', () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer();
    key = t.tenantA.adminKey;
  });
  afterAll(async () => {
    await t.close();
  });

  it('lint answers an alias expansion bomb with a diagnostic (it was a 500)', async () => {
    const res = await t.request('POST', '/api/v1/policies/lint', { key, body: { source: laughs } });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.diagnostics[0].code).toBe('POLICY_SYNTAX');
  });

  it.each([
    ['a catastrophic regular expression', rule(`"${'a'.repeat(40)}!".matches("^(a+)+$")`)],
    ['a list doubled by cel.bind', rule('cel.bind(a, [1, 2], cel.bind(b, a + a, size(b) > 0))')],
    ['nested comprehensions', rule('[1, 2].all(x, [3, 4].all(y, x != y))')],
  ])('create refuses %s', async (label, source) => {
    const res = await t.request('POST', '/api/v1/policies', { key, body: { name: `p-${label.replace(/\W+/g, '-')}`, source, activate: true } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('POLICY_INVALID');
  });

  it('a scope glob with many stars is accepted and enforced at once', async () => {
    const source = `agents: { bot: { approvedScope: ["${'*a'.repeat(16)}b"] } }\n`;
    const res = await t.request('POST', '/api/v1/policies', { key, body: { name: 'stars', source, activate: true } });
    expect(res.status).toBe(201);
    const enforced = await t.services.enforcement.enforce(t.tenantA.id, { agentId: 'bot', sessionId: 's', toolName: 'a'.repeat(60), arguments: {} });
    expect(enforced.decision).toBe('BLOCK');
  });
});

describe('an active policy that no longer compiles', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is compiled once, not on every call, and every call is refused', async () => {
    // A version stored before a stricter check (here: matches()) was recompiled, and failed, on every call.
    const now = Date.now();
    const source = rule('args.s.matches("^a+$")');
    await t.store.policies.create(
      { id: 'pol_old', tenantId: t.tenantA.id, name: 'old', description: null, latestVersion: 1, createdAt: now, updatedAt: now, createdBy: null },
      { tenantId: t.tenantA.id, policyId: 'pol_old', version: 1, source, sourceHash: 'x', comment: null, createdAt: now, createdBy: null },
    );
    await t.store.policies.recordActivation({ tenantId: t.tenantA.id, policyId: 'pol_old', version: 1, action: 'activate', actor: null, createdAt: now });
    const policies = t.services.policies;
    let compiles = 0;
    const original = policies.compile.bind(policies);
    policies.compile = (...args) => { compiles += 1; return original(...args); };
    for (let call = 0; call < 5; call += 1) {
      const result = await t.services.enforcement.enforce(t.tenantA.id, { agentId: 'bot', sessionId: 's', toolName: 't', arguments: { s: 'aaa' } });
      expect(result.decision).toBe('BLOCK');
      expect(result.reason).toContain('no longer compiles');
    }
    expect(compiles).toBe(1);
  });
});
