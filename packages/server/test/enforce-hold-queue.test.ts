// The approvers' queue: a re-sent call that already waits for a human gets the same hold (not a second request),
// and one agent cannot fill the queue: past TOLLGATE_MAX_PENDING_HOLDS_PER_AGENT its calls that need a human are
// refused (BLOCK, with the reason) instead of queued, so a request cannot be buried among thousands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

const POLICY = `name: refunds
agents: { "*": { approvedScope: [issue_refund] } }
rules:
  - { id: big-refund, match: { tools: [issue_refund] }, when: "args.amount > 100", effect: STEP_UP, reason: big refund }
`;

describe('the approvers\' queue', () => {
  let t: TestServer;
  let key: string;
  const refund = (agentId: string, amount: number, sessionId = 's-1') =>
    t.request('POST', '/v1/enforce', { key, body: { agentId, sessionId, toolName: 'issue_refund', arguments: { amount } } });
  const pending = async () => (await t.request('GET', '/api/v1/approvals', { key })).body;

  beforeAll(async () => {
    t = await startTestServer({ config: { maxPendingHoldsPerAgent: 3 } });
    key = t.tenantA.adminKey;
    expect((await t.request('POST', '/api/v1/policies', { key, body: { name: 'refunds', source: POLICY, activate: true } })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  it('a re-sent call that waits for a human gets the same hold; another call gets its own', async () => {
    const first = await refund('retrier', 500);
    const again = await refund('retrier', 500);
    expect(first.body.decision).toBe('STEP_UP');
    expect(again.body).toMatchObject({ decision: 'STEP_UP', holdToken: first.body.holdToken, holdExpiresAt: first.body.holdExpiresAt });
    expect(again.body.decisionId).not.toBe(first.body.decisionId); // both calls are recorded
    const other = await refund('retrier', 600);
    expect(other.body.holdToken).not.toBe(first.body.holdToken);
    const tokens = JSON.stringify(await pending());
    expect(tokens.split(first.body.holdToken).length - 1).toBe(1); // listed once
    // Once decided, the same call asks again.
    expect((await t.request('POST', `/api/v1/approvals/${first.body.holdToken}/deny`, { key, body: { approver: 'carol' } })).status).toBe(200);
    const afterDenial = await refund('retrier', 500);
    expect(afterDenial.body.decision).toBe('STEP_UP');
    expect(afterDenial.body.holdToken).not.toBe(first.body.holdToken);
  });

  it('past the cap an agent\'s calls that need a human are refused, not queued; other agents are unaffected', async () => {
    const tokens: string[] = [];
    for (const amount of [200, 300, 400]) {
      const held = await refund('flooder', amount);
      expect(held.body.decision).toBe('STEP_UP');
      tokens.push(held.body.holdToken);
    }
    const refused = await refund('flooder', 500);
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ decision: 'BLOCK', holdToken: null });
    expect(refused.body.reason).toMatch(/not queued for approval: this agent already has 3 approvals pending/);
    expect(refused.body.violationId).toEqual(expect.any(String));
    // Fresh session ids do not get around it (the cap is per agent).
    expect((await refund('flooder', 501, 's-rotated')).body.decision).toBe('BLOCK');
    // A re-sent call that already waits still gets its hold.
    expect((await refund('flooder', 200)).body.holdToken).toBe(tokens[0]);
    expect((await refund('bystander', 500)).body.decision).toBe('STEP_UP');
    // Deciding one frees a place.
    expect((await t.request('POST', `/api/v1/approvals/${tokens[1]}/approve`, { key, body: { approver: 'carol' } })).status).toBe(200);
    expect((await refund('flooder', 500)).body.decision).toBe('STEP_UP');
  });
});
