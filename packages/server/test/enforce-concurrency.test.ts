// Concurrent calls of one agent in many sessions (session 13 red team): on PostgreSQL, 200 concurrent calls all
// evaluated against the same stale rate counts and agent-wide violation counts (they were updated only after the
// store was asked about holds), so a `rateLimit` of 3 let 200 STEP_UPs through and agent-wide escalation 73; and
// 400 concurrent calls created 400 pending holds past a cap of 100 (the store counts written holds only), and 200
// concurrent permission requests were all stored past a cap of 20.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startTollgate } from '../src/index.js';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const pgUrl = postgresTestUrl('enforcement under concurrency');

const POLICY = `name: concurrency
agents: { "*": { approvedScope: [refund, delete_db, transfer] } }
progressive: { blockAfter: 2, across: agent, within: 1h }
rules:
  - { id: refund-rate, match: { tools: [refund] }, rateLimit: { count: 3, window: 10m, per: agent }, effect: BLOCK, reason: at most 3 refunds }
  - { id: refund-step, match: { tools: [refund] }, effect: STEP_UP, reason: refunds need a human }
  - { id: bad, match: { tools: [delete_db] }, effect: BLOCK, reason: never }
  - { id: transfer-step, match: { tools: [transfer] }, effect: STEP_UP, reason: transfers need a human }
`;

describe.each([
  ['SQLite', undefined],
  ['PostgreSQL', pgUrl],
])('enforcement under concurrency on %s', (dialect, postgresUrl) => {
  const skip = dialect === 'PostgreSQL' && !postgresUrl;
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer({ postgresUrl, config: { maxPendingHoldsPerAgent: 10 } });
    key = t.tenantA.adminKey;
    expect((await t.request('POST', '/api/v1/policies', { key, body: { name: 'concurrency', source: POLICY, activate: true } })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** `n` calls of `toolName` by `agentId` at once, each in its own session; counts of each decision. */
  const burst = async (agentId: string, toolName: string, n: number, enforcement: string, sessions = agentId) => {
    const answers = await Promise.all(Array.from({ length: n }, (_, i) =>
      t.request('POST', '/v1/enforce', { key, body: { agentId, sessionId: `${sessions}-${i}`, toolName, arguments: { i }, enforcement } })));
    const counts: Record<string, number> = {};
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      counts[answer.body.decision] = (counts[answer.body.decision] ?? 0) + 1;
    }
    return { counts, answers };
  };

  it.skipIf(skip)('a per-agent rate limit holds against 150 concurrent calls that each need a human', async () => {
    const { counts } = await burst('rate-limited', 'refund', 150, 'block');
    expect(counts.STEP_UP).toBe(3);
    expect(counts.BLOCK).toBe(147);
  });

  it.skipIf(skip)('agent-wide progressive escalation holds against 150 concurrent violations in fresh sessions', async () => {
    const { counts } = await burst('escalating', 'delete_db', 150, 'progressive');
    // blockAfter 2: the first violation is STEP_UP, the second and every later one BLOCK, whatever the session.
    expect(counts.STEP_UP).toBe(1);
    expect(counts.BLOCK).toBe(149);
  });

  it.skipIf(skip)('the per-agent cap on pending approvals holds against 150 concurrent calls', async () => {
    const { counts, answers } = await burst('flooder', 'transfer', 150, 'block');
    expect(counts.STEP_UP).toBe(10);
    expect(counts.BLOCK).toBe(140);
    const tokens = new Set(answers.map((answer) => answer.body.holdToken).filter((token) => token !== null));
    expect(tokens.size).toBe(10);
    const queue = await t.request('GET', '/api/v1/approvals', { key });
    expect(JSON.stringify(queue.body).match(/"agentId":"flooder"/g)?.length).toBe(10);
    // Places are given back: once decided, the agent may ask again.
    for (const token of [...tokens].slice(0, 2)) expect((await t.request('POST', `/api/v1/approvals/${token}/deny`, { key, body: { approver: 'carol' } })).status).toBe(200);
    expect((await burst('flooder', 'transfer', 5, 'block', 'flooder-again')).counts).toEqual({ STEP_UP: 2, BLOCK: 3 });
  });

  it.skipIf(skip)('calls still being decided when the kill switch is engaged are refused; none is released after it answered', async () => {
    // Calls that need a human look holds up in the store before they are answered: on PostgreSQL, calls decided
    // before the halt were answered ALLOW up to 70 ms after the kill switch's response.
    const order: Array<{ at: number; decision?: string; kill?: true }> = [];
    let tick = 0;
    let kill: Promise<unknown> | undefined;
    const calls = Array.from({ length: 300 }, (_, i) => t.services.enforcement
      .enforce(t.tenantA.id, { agentId: 'halted-mid-flight', sessionId: `halted-${i}`, toolName: 'transfer', arguments: { i }, enforcement: 'step_up' })
      .then((answer) => {
        order.push({ at: (tick += 1), decision: answer.decision });
        // Halted while most calls are still being decided.
        if (order.length === 10) kill = t.services.killSwitch.killAgent(t.tenantA.id, 'halted-mid-flight', 'incident', 'test').then(() => order.push({ at: (tick += 1), kill: true }));
      }));
    await Promise.all(calls);
    await kill;
    const killedAt = order.find((entry) => entry.kill)!.at;
    const late = order.filter((entry) => entry.at > killedAt && !entry.kill);
    expect(late.filter((entry) => entry.decision !== 'BLOCK')).toEqual([]);
    expect(order.filter((entry) => entry.decision === 'BLOCK').length).toBeGreaterThan(0);
    await t.services.killSwitch.reviveAgent(t.tenantA.id, 'halted-mid-flight', null, 'test');
  });
  it.skipIf(skip)('the per-agent cap of 20 pending permission requests holds against 60 concurrent requests', async () => {
    const agentsKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    const agentId = (await t.request('POST', '/api/v1/sdk/agents', { key: agentsKey, body: { name: 'asks-a-lot', entry_code: 'return 1;' } })).body.agent.id;
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      t.request('POST', '/api/sdk/permission-requests', { key: agentsKey, body: { agent_id: agentId, permissions: { max_api_calls_per_run: 50 + i } } })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(20);
    expect(statuses.filter((status) => status === 429)).toHaveLength(40);
    const stored = await t.request('GET', '/api/sdk/permission-requests?status=pending', { key: agentsKey });
    expect(JSON.stringify(stored.body).match(new RegExp(`"agent_id":${agentId}[,}]`, 'g'))?.length).toBe(20);
  });
  it.skipIf(skip)('a limit already used up holds on a replica that loads its counter while another session changes what applies', async () => {
    // Session 13 red team, after a restart on PostgreSQL: a call whose rate counter was loading was evaluated again
    // once it had loaded; a trigger call of another session meanwhile made a second rule apply (`after … across:
    // agent`) whose counter was not loaded, and it counted from 0 past a limit already used up.
    const source = `name: after-trigger
agents: { "*": { approvedScope: [send, trigger] } }
rules:
  - { id: sends, match: { tools: [send] }, rateLimit: { count: 100000, window: 1h, per: agent }, effect: BLOCK, reason: cap }
  - id: sends-after-trigger
    match: { tools: [send] }
    after: { tools: [trigger], within: 1s, across: agent }
    rateLimit: { count: 2, window: 1h, per: agent }
    effect: BLOCK
    reason: at most 2 sends after a trigger
`;
    const policy = await t.request('POST', '/api/v1/policies', { key, body: { name: 'after-trigger', source, activate: true } });
    expect(policy.status).toBe(201);
    const call = (enforce: (tenantId: string, body: object) => Promise<{ decision: string }>, toolName: string, sessionId: string) =>
      enforce(t.tenantA.id, { agentId: 'trigger-bot', sessionId, toolName, arguments: {}, enforcement: 'block' });
    const here = (tenantId: string, body: object) => t.services.enforcement.enforce(tenantId, body as never);
    await call(here, 'trigger', 'setup-t');
    expect([(await call(here, 'send', 'setup-1')).decision, (await call(here, 'send', 'setup-2')).decision, (await call(here, 'send', 'setup-3')).decision])
      .toEqual(['ALLOW', 'ALLOW', 'BLOCK']);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the trigger is out of the window
    // A second replica on the same database: its counters are loaded on first use.
    const replica = await startTollgate({ config: loadConfig({}, { ...t.config, port: 0 }) });
    try {
      const there = (tenantId: string, body: object) => replica.server.services.enforcement.enforce(tenantId, body as never);
      const decisions = replica.server.services.store.decisions as unknown as { loadCounters: (...args: unknown[]) => Promise<unknown> };
      const load = decisions.loadCounters;
      let triggered = false;
      // While the first counter loads, another session of the agent calls the trigger.
      decisions.loadCounters = async (...args: unknown[]) => {
        if (!triggered) {
          triggered = true;
          await call(there, 'trigger', 'other-session');
        }
        return load.apply(decisions, args);
      };
      const answer = await call(there, 'send', 'after-restart');
      expect(triggered).toBe(true);
      expect(answer).toMatchObject({ decision: 'BLOCK', matchedRules: expect.arrayContaining(['sends-after-trigger']) });
    } finally {
      await replica.close();
    }
  });
});
