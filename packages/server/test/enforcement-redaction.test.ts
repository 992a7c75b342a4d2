import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// Issue 7: secrets found in tool-call arguments must not be stored. Decision records and holds used to keep the raw
// arguments; they are now masked, while evaluation and the action hash (what an approval is bound to) see the raw call.
const examplePolicy = readFileSync(fileURLToPath(new URL('../../../examples/policies/support-agent.yaml', import.meta.url)), 'utf8');

/** A GitHub personal access token shaped value, built at run time so no secret-looking literal is committed. */
function syntheticGithubToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let body = '';
  for (let i = 0; i < 36; i += 1) body += alphabet[(i * 17 + 7) % alphabet.length];
  return `ghp_${body}`;
}

describe('secrets in tool-call arguments', () => {
  let t: TestServer;
  let key: string;
  const secret = syntheticGithubToken();
  const refund = { agentId: 'support-bot', sessionId: 'redact-1', toolName: 'issue_refund', arguments: { amount: 900, note: `use token ${secret}` } };

  beforeAll(async () => {
    t = await startTestServer();
    key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'support', source: examplePolicy, activate: true } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  it('are masked in the stored decision and in the hold an approver sees, and the approval still releases the exact call', async () => {
    const held = await t.request('POST', '/v1/enforce', { key, body: refund });
    expect(held.body.decision).toBe('STEP_UP');

    const stored = await t.store.decisions.get(t.tenantA.id, held.body.decisionId);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored?.arguments).toEqual({ amount: 900, note: expect.stringContaining('[REDACTED:') });

    const queue = await t.request('GET', '/api/v1/approvals?status=pending', { key });
    expect(queue.status).toBe(200);
    expect(JSON.stringify(queue.body)).not.toContain(secret);
    const item = queue.body.items.find((entry: { id: string }) => entry.id === held.body.holdToken);
    expect(JSON.stringify(item.arguments)).toContain('[REDACTED:');

    const approved = await t.request('POST', `/api/v1/approvals/${held.body.holdToken}/approve`, { key, body: { approver: 'carol' } });
    expect(approved.status).toBe(200);
    const released = await t.request('POST', '/v1/enforce', { key, body: { ...refund, holdToken: held.body.holdToken } });
    expect(released.body.decision).toBe('ALLOW');
    const releasedRecord = await t.store.decisions.get(t.tenantA.id, released.body.decisionId);
    expect(JSON.stringify(releasedRecord)).not.toContain(secret);
  });
});
