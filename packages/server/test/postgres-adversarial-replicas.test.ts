// Races that SQLite's single writer hides: two Tollgate replicas on one PostgreSQL database appending to one tenant's
// ledger at once, and one approved hold token presented many times in parallel (READ COMMITTED).
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
});
