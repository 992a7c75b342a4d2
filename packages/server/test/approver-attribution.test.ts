import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// The approver name in an approve/deny body is free text: any key with the `approvals` scope could record
// "alice@corp" as the one who released a refund. The tamper-evident trail must say which credential decided.

const policy = `
name: attribution
agents:
  bot: { approvedScope: [refund], enforcement: block }
rules:
  - { id: big-refund, match: { tools: [refund] }, when: "args.amount > 500", effect: STEP_UP, reason: large refund }
`;

interface AuditRecord { type: string; actor: string | null; data: Record<string, unknown> }

describe('approver attribution in the audit trail', () => {
  let t: TestServer;
  let approverKeyId: string;
  let approverKey: string;

  beforeAll(async () => {
    t = await startTestServer();
    const created = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'attribution', source: policy, activate: true } });
    expect(created.status).toBe(201);
    const approver = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] });
    approverKeyId = approver.record.id;
    approverKey = approver.token;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function records(type: string): Promise<AuditRecord[]> {
    const res = await t.request('GET', `/api/v1/audit/records?limit=1000`, { key: t.tenantA.adminKey });
    expect(res.status).toBe(200);
    return (res.body.events as AuditRecord[]).filter((record) => record.type === type);
  }

  it.each([['approve', 'hold.approved'], ['deny', 'hold.denied']] as const)('%s: the actor is the deciding key, the typed name is data', async (action, type) => {
    const held = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot', toolName: 'refund', arguments: { amount: 900, action } } });
    expect(held.body.decision).toBe('STEP_UP');
    const decided = await t.request('POST', `/api/v1/approvals/${held.body.holdToken}/${action}`, { key: approverKey, body: { approver: 'alice@corp', comment: 'ok' } });
    expect(decided.status).toBe(200);
    const [record] = await records(type);
    expect(record?.actor).toBe(approverKeyId);
    expect(record?.data).toMatchObject({ approver: 'alice@corp' });
  });
});
