// A caller names its sessions and tools, and chooses observe mode (every call allowed, so every tool is remembered).
// Before session histories were bounded, one session sending each call under a new tool name made every further
// call copy a growing map (20,000 tools: 2.4 ms of event loop per call, for every tenant) and wrote a growing state
// every second. The history is now bounded, the tool a sequence rule reads is kept, and the stored state stays small.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TOOLS_PER_SESSION } from '@tollgate/core';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

const POLICY = `name: flood
agents: { "*": { approvedScope: [read_customer, send_email, "kb_*"] } }
rules:
  - { id: read-then-mail, match: { tools: [send_email] }, after: read_customer, effect: BLOCK, reason: customer read in this session }
`;

describe('one session flooded with distinct tool names', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    const created = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'flood', source: POLICY, activate: true } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps a bounded history that still holds the read, in memory and in the database', async () => {
    const key = t.tenantA.adminKey;
    const enforce = (body: Record<string, unknown>) => t.request('POST', '/v1/enforce', { key, body: { agentId: 'flooder', sessionId: 'one', ...body } });
    expect((await enforce({ toolName: 'read_customer' })).body.decision).toBe('ALLOW');
    const total = DEFAULT_MAX_TOOLS_PER_SESSION + 300;
    for (let start = 0; start < total; start += 100) {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => enforce({ toolName: `kb_${start + i}`, enforcement: 'observe' })));
      expect(answers.every((res) => res.status === 200 && res.body.decision === 'ALLOW')).toBe(true);
    }
    const mail = await enforce({ toolName: 'send_email' });
    expect(mail.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['read-then-mail'] });
    await t.server.close(); // writes every dirty session state
    const stored = await t.store.decisions.loadSessionState(t.tenantA.id, 'one');
    const state = JSON.parse(stored ?? '{}') as { lastCallAt: Array<[string, number]>; callCount: number };
    expect(state.callCount).toBe(total + 2);
    expect(state.lastCallAt.length).toBe(DEFAULT_MAX_TOOLS_PER_SESSION);
    expect(state.lastCallAt.some(([tool]) => tool === 'read_customer')).toBe(true);
    expect(stored!.length).toBeLessThan(40_000);
  });
});
