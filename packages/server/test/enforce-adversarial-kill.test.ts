import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// Adversarial tests of the kill switch: each tries to reach a halted agent, or to lift a halt the operator did not lift.

describe('enforce adversarial: kill switch', () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer();
    key = t.tenantA.adminKey;
  });
  afterAll(async () => {
    await t.close();
  });

  const enforce = (agentId: string) => t.request('POST', '/v1/enforce', { key, body: { agentId, toolName: 'search', approvedScope: ['search'] } });

  it.each([
    ['upper case', 'Research-Agent'],
    ['surrounding whitespace', ' research-agent '],
    ['a zero-width space', 'research\u200b-agent'],
    ['fullwidth letters (NFKC)', 'ｒｅｓｅａｒｃｈ-agent'],
  ])('a halted agent is not reached under another spelling of its id (%s)', async (_label, spelling) => {
    await t.request('POST', '/api/sdk/agents/research-agent/kill', { key, body: { reason: 'leaking data' } });
    const answer = await enforce(spelling);
    expect(answer.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['kill-switch'] });
    await t.request('POST', '/api/sdk/agents/research-agent/unkill', { key, body: {} });
    expect((await enforce(spelling)).body.decision).toBe('ALLOW');
  });

  it('halting one spelling and releasing another leaves the first halted', async () => {
    await t.request('POST', '/api/sdk/agents/ops-bot/kill', { key, body: { reason: 'a' } });
    await t.request('POST', '/api/sdk/agents/Ops-Bot/kill', { key, body: { reason: 'b' } });
    await t.request('POST', '/api/sdk/agents/Ops-Bot/unkill', { key, body: {} });
    expect((await enforce('ops-bot')).body.decision).toBe('BLOCK');
    await t.request('POST', '/api/sdk/agents/ops-bot/unkill', { key, body: {} });
    expect((await enforce('ops-bot')).body.decision).toBe('ALLOW');
  });

  it('releasing an "agent" named * does not release the tenant-wide kill switch', async () => {
    // The global switch is stored under the agent id "*": unkill of agent "*" silently lifted it.
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: true, reason: 'incident' } });
    const unkill = await t.request('POST', '/api/sdk/agents/*/unkill', { key, body: {} });
    expect(unkill.status).toBe(400);
    expect((await enforce('anyone')).body.decision).toBe('BLOCK');
    const kill = await t.request('POST', '/api/sdk/agents/%2A/kill', { key, body: {} });
    expect(kill.status).toBe(400);
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: false } });
    expect((await enforce('anyone')).body.decision).toBe('ALLOW');
  });

  it('the global switch wins over an agent that was never halted and over a per-agent release', async () => {
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: true } });
    await t.request('POST', '/api/sdk/agents/fresh/unkill', { key, body: {} });
    const answer = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'fresh', toolName: 'search', approvedScope: ['search'], enforcement: 'observe' } });
    expect(answer.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['kill-switch'] });
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: false } });
  });
});
