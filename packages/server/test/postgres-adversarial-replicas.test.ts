// Races that SQLite's single writer hides: two Tollgate replicas on one PostgreSQL database appending to one tenant's
// ledger at once, one approved hold token presented many times in parallel (READ COMMITTED), and an agent-wide
// sequence rule whose earlier call was decided by the other replica.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startTollgate, type RunningTollgate } from '../src/index.js';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const examplePolicy = readFileSync(fileURLToPath(new URL('../../../examples/policies/support-agent.yaml', import.meta.url)), 'utf8');
const pgUrl = postgresTestUrl('postgres adversarial: replicas');

describe.skipIf(!pgUrl)('two replicas on one PostgreSQL', () => {
  let first: TestServer;
  let second: RunningTollgate;
  beforeAll(async () => {
    first = await startTestServer({ postgresUrl: pgUrl });
    second = await startTollgate({ config: loadConfig({}, { ...first.config, port: 0 }) });
    await first.request('POST', '/api/v1/policies', { key: first.tenantA.adminKey, body: { name: 'support', source: examplePolicy, activate: true } });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  const enforceAt = (url: string, body: unknown) =>
    fetch(`${url}/v1/enforce`, { method: 'POST', headers: { authorization: `Bearer ${first.tenantA.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(async (res) => ({ status: res.status, body: (await res.json()) as any }));

  it('parallel decisions on both replicas all land in one dense ledger whose records verify', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => enforceAt(i % 2 === 0 ? first.url : second.url, { agentId: `bot-${i}`, sessionId: `s-${i}`, toolName: 'lookup_order', arguments: { id: i } }));
    const answers = await Promise.all(calls);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    await Promise.all([first.services.ledger.flush(), second.server.services.ledger.flush()]);
    await expect.poll(async () => (await first.request('GET', '/api/v1/audit/records?limit=1000', { key: first.tenantA.adminKey })).body.total, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(40);
    const listed = await first.request('GET', '/api/v1/audit/records?limit=1000', { key: first.tenantA.adminKey });
    const indexes: number[] = listed.body.events.map((event: { index: number }) => event.index);
    expect(indexes).toEqual(indexes.map((_, i) => i)); // dense, no duplicate, no gap
    const agents = new Set(listed.body.events.map((event: { agentId?: string }) => event.agentId));
    for (let i = 0; i < 40; i++) expect(agents.has(`bot-${i}`)).toBe(true);
    const last = listed.body.events.at(-1);
    const verify = async (url: string) =>
      ((await (await fetch(`${url}/api/v1/audit/records/${last.id}/verify`, { headers: { authorization: `Bearer ${first.tenantA.adminKey}` } })).json()) as { verified?: boolean }).verified;
    await expect.poll(() => verify(first.url), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => verify(second.url), { timeout: 5_000 }).toBe(true);
  });

  it('a customer read on one replica blocks an e-mail on the other, from a new session (agent-wide rule)', async () => {
    const outside = { toolName: 'send_email', arguments: { to: 'partner@evil.example', body: 'hi' } };
    // Both replicas have the agent cached before the read: the second learns of it from the bus.
    for (const url of [first.url, second.url]) expect((await enforceAt(url, { agentId: 'support-bot', sessionId: `warm-${url}`, toolName: 'search_kb', arguments: {} })).body.decision).toBe('ALLOW');
    expect((await enforceAt(first.url, { agentId: 'support-bot', sessionId: 'replica-read', toolName: 'read_customer', arguments: { id: 7 } })).body.decision).toBe('ALLOW');
    let attempt = 0;
    await expect.poll(async () => (await enforceAt(second.url, { agentId: 'support-bot', sessionId: `replica-mail-${attempt++}`, ...outside })).body.matchedRules, { timeout: 2_000 })
      .toContain('no-email-outside-after-customer-read');
  });

  it('an agent the other replica has never seen is loaded with a read decided a moment ago (written with its decision)', async () => {
    const keyB = first.tenantB.adminKey;
    const created = await first.request('POST', '/api/v1/policies', { key: keyB, body: { name: 'support', source: examplePolicy, activate: true } });
    expect(created.status).toBe(201);
    const asB = (url: string, body: unknown) =>
      fetch(`${url}/v1/enforce`, { method: 'POST', headers: { authorization: `Bearer ${keyB}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
        .then(async (res) => (await res.json()) as { decision: string; matchedRules: string[] });
    // A call just before: the agent's history was written a moment ago, so a read only waiting for the once-a-second
    // write would not be in the database yet.
    expect((await asB(first.url, { agentId: 'support-bot', sessionId: 'b-warm', toolName: 'search_kb', arguments: {} })).decision).toBe('ALLOW');
    expect((await asB(first.url, { agentId: 'support-bot', sessionId: 'b-read', toolName: 'read_customer', arguments: { id: 8 } })).decision).toBe('ALLOW');
    expect(await asB(second.url, { agentId: 'support-bot', sessionId: 'b-mail', toolName: 'send_email', arguments: { to: 'partner@evil.example', body: 'hi' } }))
      .toMatchObject({ decision: 'BLOCK', matchedRules: expect.arrayContaining(['no-email-outside-after-customer-read']) });
  });

  it('an approved hold token sent to both replicas many times at once is honoured exactly once', async () => {
    const refund = { agentId: 'support-bot', sessionId: 'race-1', toolName: 'issue_refund', arguments: { amount: 900 } };
    const held = await enforceAt(first.url, refund);
    expect(held.body.decision).toBe('STEP_UP');
    const token: string = held.body.holdToken;
    const approved = await first.request('POST', `/api/v1/approvals/${token}/approve`, { key: first.tenantA.adminKey, body: { approver: 'carol' } });
    expect(approved.status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => enforceAt(i % 2 === 0 ? first.url : second.url, { ...refund, holdToken: token })));
    expect(answers.filter((answer) => answer.status >= 500)).toEqual([]);
    expect(answers.filter((answer) => answer.body.decision === 'ALLOW')).toHaveLength(1);
  });

  it('agent-wide escalation counts a violation decided on the other replica once (bus), and from the database for an agent it never saw', async () => {
    const keyB = first.tenantB.adminKey;
    const escalation = 'name: escalation\nagents: { "*": { approvedScope: [search_kb] } }\nprogressive: { blockAfter: 2, across: agent, within: 1h }\nrules: []\n';
    expect((await first.request('POST', '/api/v1/policies', { key: keyB, body: { name: 'escalation', source: escalation, activate: true } })).status).toBe(201);
    const asB = (url: string, body: Record<string, unknown>) =>
      fetch(`${url}/v1/enforce`, { method: 'POST', headers: { authorization: `Bearer ${keyB}`, 'content-type': 'application/json' }, body: JSON.stringify({ enforcement: 'progressive', arguments: {}, ...body }) })
        .then(async (res) => (await res.json()) as { decision: string; reason: string });
    // Both replicas have the agent cached: the second learns of the violation from the bus.
    for (const url of [first.url, second.url]) {
      await expect.poll(async () => (await asB(url, { agentId: 'escalator', sessionId: `warm-${url}`, toolName: 'search_kb' })).decision, { timeout: 5_000 }).toBe('ALLOW');
    }
    expect((await asB(first.url, { agentId: 'escalator', sessionId: 'e-1', toolName: 'drop_tables' })).decision).toBe('STEP_UP');
    let violationsOnSecond = 0;
    await expect.poll(async () => {
      violationsOnSecond += 1;
      return (await asB(second.url, { agentId: 'escalator', sessionId: `e-2-${violationsOnSecond}`, toolName: 'drop_tables' })).decision;
    }, { timeout: 2_000 }).toBe('BLOCK');
    // The deciding replica does not count its own violation again when its announcement comes back from the bus.
    expect((await asB(first.url, { agentId: 'once', sessionId: 'o-1', toolName: 'drop_tables' })).decision).toBe('STEP_UP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await asB(first.url, { agentId: 'once', sessionId: 'o-2', toolName: 'drop_tables' })).reason).toMatch(/violation 2 of this agent within 1h/);
    // An agent the second replica has never seen: loaded with the violation written with its decision.
    expect((await asB(first.url, { agentId: 'fresh-escalator', sessionId: 'f-1', toolName: 'drop_tables' })).decision).toBe('STEP_UP');
    expect((await asB(second.url, { agentId: 'fresh-escalator', sessionId: 'f-2', toolName: 'drop_tables' }))).toMatchObject({ decision: 'BLOCK', reason: expect.stringMatching(/violation 2 of this agent within 1h/) });
  });
  it('agent-wide data flow: a value returned on one replica is caught leaving through the other (bus for a cached agent, database otherwise)', async () => {
    const keyB = first.tenantB.adminKey;
    const policy = [
      'name: agent-data-flow',
      'agents: { "*": { approvedScope: [read_customer, send_email] } }',
      'dataFlow: { sources: [{ tools: [read_customer], label: customer_pii }] }',
      'rules:',
      '  - { id: no-pii-out, match: { tools: [send_email] }, dataFlow: { labels: [customer_pii], across: agent, within: 1h }, effect: BLOCK, reason: customer data leaves }',
      '',
    ].join('\n');
    expect((await first.request('POST', '/api/v1/policies', { key: keyB, body: { name: 'agent-data-flow', source: policy, activate: true } })).status).toBe(201);
    const asB = (url: string, path: string, body: Record<string, unknown>) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${keyB}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
        .then(async (res) => (await res.json()) as { decision: string; matchedRules?: string[] });
    const mail = (url: string, agentId: string, sessionId: string, body: string) => asB(url, '/v1/enforce', { agentId, sessionId, toolName: 'send_email', arguments: { body } });
    const read = async (url: string, agentId: string, email: string) => {
      expect((await asB(url, '/v1/enforce', { agentId, sessionId: `read-${agentId}`, toolName: 'read_customer', arguments: {} })).decision).toBe('ALLOW');
      expect((await asB(url, '/v1/enforce/output', { agentId, sessionId: `read-${agentId}`, toolName: 'read_customer', output: { email } })).decision).toBe('ALLOW');
    };
    // Both replicas have the agent's (empty) values in memory before the read: the second learns of it from the bus.
    for (const url of [first.url, second.url]) {
      await expect.poll(async () => (await mail(url, 'courier', `warm-${url}`, 'hello')).decision, { timeout: 5_000 }).toBe('ALLOW');
    }
    await read(first.url, 'courier', 'first.replica@customer.example');
    let attempt = 0;
    await expect.poll(async () => (await mail(second.url, 'courier', `mail-${attempt++}`, 'first.replica@customer.example')).decision, { timeout: 2_000 }).toBe('BLOCK');
    // An agent the second replica has never seen: its values are read from the database, where the output was written.
    await read(first.url, 'fresh-courier', 'fresh@customer.example');
    expect(await mail(second.url, 'fresh-courier', 'f-1', 'fresh@customer.example')).toMatchObject({ decision: 'BLOCK', matchedRules: ['no-pii-out'] });
    expect((await mail(second.url, 'fresh-courier', 'f-2', 'no customer data here')).decision).toBe('ALLOW');
  });
  it('a kill and a revive sent to different replicas at the same moment leave both replicas with the stored switch', async () => {
    // Session 13 red team: each replica applied the other's bus message after its own write, so in 11 of 30 rounds
    // one replica kept allowing an agent the stored switch showed halted (until the next change or a restart).
    const key = first.tenantA.adminKey;
    const post = (url: string, path: string) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'race' }) });
    for (let round = 0; round < 12; round += 1) {
      const agent = `split-${round}`;
      const [a, b] = round % 2 === 0 ? [first.url, second.url] : [second.url, first.url];
      const answers = await Promise.all([post(a, `/api/sdk/agents/${agent}/kill`), post(b, `/api/sdk/agents/${agent}/unkill`)]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      const stored = (await (await fetch(`${first.url}/api/sdk/kill-switch`, { headers: { authorization: `Bearer ${key}` } })).json()) as { agents: Array<{ agent_id: string; halted: boolean }> };
      const halted = stored.agents.find((entry) => entry.agent_id === agent)?.halted ?? false;
      const expected = halted ? 'BLOCK' : 'ALLOW';
      // Both replicas converge on the stored switch (messages travel through PostgreSQL), and stay there.
      for (const url of [first.url, second.url]) {
        await expect.poll(async () => (await enforceAt(url, { agentId: agent, sessionId: `check-${round}`, toolName: 'search_kb', arguments: {} })).body.decision, { timeout: 2_000 }).toBe(expected);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const url of [first.url, second.url]) {
        expect((await enforceAt(url, { agentId: agent, sessionId: `again-${round}`, toolName: 'search_kb', arguments: {} })).body.decision).toBe(expected);
      }
    }
  });
});
