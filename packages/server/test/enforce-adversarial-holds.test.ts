import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { manualClock } from '../src/services/clock.js';

// Adversarial tests of /v1/enforce and step-up holds: each tries to get an ALLOW (or a released hold)
// that the policy or the operator did not intend.

const policy = `
name: adversarial
agents:
  bot: { approvedScope: [refund, search], enforcement: block }
  "*": { approvedScope: [search] }
rules:
  - { id: big-refund, match: { tools: [refund] }, when: "args.amount > 500", effect: STEP_UP, reason: large refund }
`;

describe('enforce adversarial: holds', () => {
  const clock = manualClock(Date.parse('2026-03-02T10:00:00Z'));
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer({ clock });
    key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'adversarial', source: policy, activate: true } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  const enforce = (body: Record<string, unknown>) => t.request('POST', '/v1/enforce', { key, body });
  const approve = (token: string) => t.request('POST', `/api/v1/approvals/${token}/approve`, { key, body: { approver: 'carol' } });

  it('an approval given for one user does not release the same call made for another user', async () => {
    // The action hash left the user out: with the default session (one per agent), bob's identical call consumed
    // the approval carol gave to alice's request.
    const call = { agentId: 'bot', toolName: 'refund', arguments: { amount: 900, order: 'o-1' } };
    const alice = await enforce({ ...call, userId: 'alice' });
    expect(alice.body.decision).toBe('STEP_UP');
    expect((await approve(alice.body.holdToken)).status).toBe(200);
    const bob = await enforce({ ...call, userId: 'bob' });
    expect(bob.body.decision).toBe('STEP_UP');
    const bobWithToken = await enforce({ ...call, userId: 'bob', holdToken: alice.body.holdToken });
    expect(bobWithToken.body.decision).toBe('BLOCK');
    expect(bobWithToken.body.reason).toContain('different action');
    const aliceAgain = await enforce({ ...call, userId: 'alice' });
    expect(aliceAgain.body.decision).toBe('ALLOW');
  });

  it('an approval presented by token after the hold expired is refused, as it is without the token', async () => {
    // redeem() never looked at expiresAt: an approval kept its power forever when presented by token.
    const call = { agentId: 'bot', userId: 'alice', sessionId: 'late', toolName: 'refund', arguments: { amount: 700 } };
    const first = await enforce(call);
    expect(first.body.decision).toBe('STEP_UP');
    expect((await approve(first.body.holdToken)).status).toBe(200);
    clock.advance(24 * 60 * 60_000);
    const late = await enforce({ ...call, holdToken: first.body.holdToken });
    expect(late.body.decision).toBe('BLOCK');
    expect(late.body.reason).toContain('expired');
    const lateWithoutToken = await enforce(call);
    expect(lateWithoutToken.body.decision).toBe('STEP_UP');
  });

  it('one approved hold releases exactly one call, by token or by action, even when both race', async () => {
    const call = { agentId: 'bot', userId: 'alice', sessionId: 'race', toolName: 'refund', arguments: { amount: 800 } };
    const first = await enforce(call);
    await approve(first.body.holdToken);
    const answers = await Promise.all([
      enforce({ ...call, holdToken: first.body.holdToken }), enforce(call), enforce({ ...call, holdToken: first.body.holdToken }), enforce(call),
    ]);
    expect(answers.filter((answer) => answer.body.decision === 'ALLOW')).toHaveLength(1);
  });

  it.each([
    ['reordered keys', { order: 'o-9', amount: 900 }, 'ALLOW'],
    ['1.0 for 1 (the same JSON number)', { amount: 900.0, order: 'o-9' }, 'ALLOW'],
    ['an extra field', { amount: 900, order: 'o-9', note: 'x' }, 'STEP_UP'],
    ['another order in NFD', { amount: 900, order: 'o-9\u0301' }, 'STEP_UP'],
    ['the amount as a string', { amount: '900', order: 'o-9' }, 'STEP_UP'],
  ])('an approval for { amount: 900, order: o-9 } and a call with %s', async (_label, args, expected) => {
    const session = `shape-${String(_label)}`;
    const base = { agentId: 'bot', userId: 'alice', sessionId: session, toolName: 'refund' };
    const first = await enforce({ ...base, arguments: { amount: 900, order: 'o-9' } });
    await approve(first.body.holdToken);
    const second = await enforce({ ...base, arguments: args });
    // A string amount fails `args.amount > 500` at run time: the STEP_UP rule fires (fail closed) with a new hold.
    expect(second.body.decision).toBe(expected);
  });

  it('an approval cannot be stretched to another integer that JSON parsing rounds to the same number', async () => {
    // 12345678901234567890 and 12345678901234567891 are both the double 12345678901234567000 once parsed: the
    // approver was shown (and approved) a number the tool never receives, and the approval covered both.
    const raw = (account: string) => fetch(`${t.url}/v1/enforce`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: `{"agentId":"bot","userId":"alice","sessionId":"bigint","toolName":"refund","arguments":{"amount":900,"account":${account}}}`,
    }).then(async (res) => (await res.json()) as { decision: string; reason: string; holdToken: string | null });
    const first = await raw('12345678901234567890');
    if (first.holdToken) await approve(first.holdToken);
    const other = await raw('12345678901234567891');
    expect(other.decision).not.toBe('ALLOW');
    expect(first.decision).toBe('BLOCK');
    expect(first.reason).toContain('integer');
    expect(first.holdToken).toBeNull();
    const exact = await raw('"12345678901234567890"');
    expect(exact.decision).toBe('STEP_UP');
  });

  it('a duplicate JSON key is seen by the policy as the value the tool gets (the last), and __proto__ is refused', async () => {
    const raw = (args: string) => fetch(`${t.url}/v1/enforce`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: `{"agentId":"bot","userId":"alice","sessionId":"dup","toolName":"refund","arguments":${args}}`,
    });
    const duplicate = await raw('{"amount":1,"amount":900}');
    expect(((await duplicate.json()) as { decision: string }).decision).toBe('STEP_UP');
    const proto = await raw('{"__proto__":{"amount":1},"amount":900}');
    expect(proto.status).toBe(400);
  });

  it('a hold cannot be approved after it expired, nor twice', async () => {
    const first = await enforce({ agentId: 'bot', userId: 'alice', sessionId: 'expiry', toolName: 'refund', arguments: { amount: 600 } });
    expect((await approve(first.body.holdToken)).status).toBe(200);
    expect((await approve(first.body.holdToken)).body.error.code).toBe('HOLD_DECIDED');
    const second = await enforce({ agentId: 'bot', userId: 'alice', sessionId: 'expiry', toolName: 'refund', arguments: { amount: 601 } });
    clock.advance(16 * 60_000);
    const late = await approve(second.body.holdToken);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('HOLD_EXPIRED');
  });

  it('the caller cannot pick observe mode for an agent whose mode the policy pins', async () => {
    const answer = await enforce({ agentId: 'bot', toolName: 'delete_all', enforcement: 'observe' });
    expect(answer.body).toMatchObject({ decision: 'BLOCK', mode: 'block' });
  });
});
