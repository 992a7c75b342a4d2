import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

const policy = `
name: refunds
agents:
  bot: { approvedScope: [refund], enforcement: block }
rules:
  - { id: big-refund, match: { tools: [refund] }, when: "args.amount > 500", effect: STEP_UP, reason: large refund }
`;
const draft = `
name: refunds
agents:
  bot: { approvedScope: [refund], enforcement: block }
rules:
  - { id: no-big-refund, match: { tools: [refund] }, when: "args.amount > 500", effect: BLOCK, reason: no large refunds }
`;

// Replay compares a draft with the policy's decision at the time; what the caller was answered (ALLOW after an
// approval) is reported beside it, so a report never calls an approved call's ALLOW a "STEP_UP" without saying so.
describe('replay of calls released by an approval', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reports the policy decision compared and the answer the caller got', async () => {
    const key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'refunds', source: policy, activate: true } });
    const call = { agentId: 'bot', userId: 'alice', sessionId: 's', toolName: 'refund', arguments: { amount: 900 } };
    const held = await t.request('POST', '/v1/enforce', { key, body: call });
    expect(held.body.decision).toBe('STEP_UP');
    expect((await t.request('POST', `/api/v1/approvals/${held.body.holdToken}/approve`, { key, body: { approver: 'carol' } })).status).toBe(200);
    const released = await t.request('POST', '/v1/enforce', { key, body: call });
    expect(released.body.decision).toBe('ALLOW');
    const report = (await t.request('POST', `/api/v1/policies/${created.body.id}/simulate`, { key, body: { source: draft } })).body;
    expect(report.transitions).toEqual({ 'STEP_UP→BLOCK': 2 });
    const example = report.examples.find((e: { decisionId: string }) => e.decisionId === released.body.decisionId);
    expect(example.recorded).toMatchObject({ decision: 'STEP_UP', answered: 'ALLOW' });
    expect(example.recorded.reason).toContain('carol');
  });
});
