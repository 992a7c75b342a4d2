import { actionHash } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// With TOLLGATE_DATA_FLOW_KEY set, the hash binding a hold to its exact action is an HMAC under that key: it is
// shown to approvers and kept in the ledger, and nobody without the key can test guesses of masked arguments.
describe('hold action hashes under TOLLGATE_DATA_FLOW_KEY', () => {
  const KEY = 'action-key-for-tests-0123456789';
  const policy = 'name: held\nagents: { "*": { approvedScope: ["*"] } }\nrules:\n  - { id: ask, match: { tools: [wire] }, effect: STEP_UP, reason: needs a person }\n';
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: { dataFlowKey: KEY } });
    const created = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'held', source: policy, activate: true } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is keyed (not the plain SHA-256 of the action), and an approval still releases exactly that call once', async () => {
    const key = t.tenantA.adminKey;
    const call = { agentId: 'pay-bot', sessionId: 'keyed', toolName: 'wire', arguments: { pin: '1234', amount: 5 } };
    const held = await t.request('POST', '/v1/enforce', { key, body: call });
    expect(held.body.decision).toBe('STEP_UP');
    const action = { tenantId: t.tenantA.id, agentId: call.agentId, userId: 'system', sessionId: call.sessionId, toolName: call.toolName, arguments: call.arguments };
    const items = (await t.request('GET', '/api/v1/approvals?status=pending', { key })).body.items as Array<{ id: string; actionHash?: string }>;
    const item = items.find((i) => i.id === held.body.holdToken);
    expect(item?.actionHash).toBe(actionHash(action, KEY));
    expect(item?.actionHash).not.toBe(actionHash(action));
    expect((await t.request('POST', `/api/v1/approvals/${held.body.holdToken}/approve`, { key, body: {} })).status).toBe(200);
    const other = await t.request('POST', '/v1/enforce', { key, body: { ...call, arguments: { pin: '1235', amount: 5 } } });
    expect(other.body.decision).toBe('STEP_UP'); // the approval does not cover other arguments
    const released = await t.request('POST', '/v1/enforce', { key, body: call });
    expect(released.body.decision).toBe('ALLOW');
    expect((await t.request('POST', '/v1/enforce', { key, body: call })).body.decision).toBe('STEP_UP'); // once
  });
});
