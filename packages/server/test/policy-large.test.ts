// Large policy sources are parsed on a worker thread: the YAML parse of 1 MB of rules held the event loop for
// ~0.8 s at each create, version, lint, diff, simulate and activation (and on every replica when an activation was
// announced). What a user sees must not change: same answers, same diagnostics with the same lines and columns,
// and a source that breaks the parser is refused, not the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

/** A policy of `count` CEL rules (~150 bytes each), optionally with a broken condition at rule `brokenAt`. */
function bigPolicy(count: number, brokenAt?: number): string {
  let text = 'name: big\nagents:\n  bot: { approvedScope: ["*"] }\nrules:\n';
  for (let i = 0; i < count; i += 1) {
    const when = i === brokenAt ? 'args.amount > > 1' : `args.amount > ${i} && args.region == "eu" && user.id != "u${i}"`;
    text += `  - { id: r${i}, match: { tools: [tool_${i}] }, when: '${when}', effect: BLOCK, reason: "rule ${i}" }\n`;
  }
  return text;
}

describe('large policy sources (parsed off the event loop)', () => {
  let t: TestServer;
  let key: string;

  beforeAll(async () => {
    t = await startTestServer();
    key = t.tenantA.adminKey;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates, activates and enforces a 2,000-rule policy; the parse ran on the worker', async () => {
    const before = t.services.policies.loader.parsedOffThread;
    const source = bigPolicy(2_000);
    expect(source.length).toBeGreaterThan(200_000);
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'big', source, activate: true } });
    expect(created.status).toBe(201);
    const blocked = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'bot', toolName: 'tool_1500', arguments: { amount: 5000, region: 'eu' } } });
    expect(blocked.body).toMatchObject({ decision: 'BLOCK', matchedRules: ['r1500'] });
    const allowed = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'bot', toolName: 'tool_1500', arguments: { amount: 5000, region: 'us' } } });
    expect(allowed.body.decision).toBe('ALLOW');
    // create, activate, and the activation's reload each parsed it on the worker.
    expect(t.services.policies.loader.parsedOffThread - before).toBeGreaterThanOrEqual(3);
  });

  it('lint and create report a broken condition deep in a large source at its own line and column', async () => {
    const source = bigPolicy(2_000, 1_234);
    const lint = await t.request('POST', '/api/v1/policies/lint', { key, body: { source } });
    expect(lint.status).toBe(200);
    expect(lint.body.ok).toBe(false);
    const line = 4 + 1_234 + 1;
    const column = (source.split('\n')[line - 1] ?? '').indexOf('> >') + 1;
    expect(lint.body.diagnostics[0]).toMatchObject({ code: 'POLICY_CEL', path: 'rules[1234].when', line });
    expect(lint.body.diagnostics[0].column).toBeGreaterThanOrEqual(column);
    expect(lint.body.diagnostics[0].column).toBeLessThanOrEqual(column + 3);
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'broken-big', source } });
    expect(created.status).toBe(422);
    expect(created.body.error.details.diagnostics).toEqual(lint.body.diagnostics);
  });

  it('diffs two large versions by rule', async () => {
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'diffed', source: bigPolicy(1_000) } });
    expect(created.status).toBe(201);
    const next = bigPolicy(1_001).replace('reason: "rule 7"', 'reason: "rule seven"');
    expect((await t.request('POST', `/api/v1/policies/${created.body.id}/versions`, { key, body: { source: next } })).status).toBe(201);
    const diff = await t.request('GET', `/api/v1/policies/${created.body.id}/diff?from=1&to=2`, { key });
    expect(diff.status).toBe(200);
    expect(diff.body.rules).toEqual({ added: ['r1000'], removed: [], changed: ['r7'] });
  });

  it('refuses sources that break the parser (deep nesting, an alias bomb) and keeps serving', async () => {
    for (const source of [
      `name: x\nrules: ${'['.repeat(300_000)}`,
      `name: x\ndescription: ${'{a: '.repeat(100_000)}`,
      `name: x\nl0: &a [${'x, '.repeat(20_000)}x]\nl1: [${'*a, '.repeat(2_000)}*a]\n`,
    ]) {
      const lint = await t.request('POST', '/api/v1/policies/lint', { key, body: { source } });
      expect(lint.status).toBe(200);
      expect(lint.body.ok).toBe(false);
      expect(lint.body.diagnostics[0].severity).toBe('error');
    }
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    expect((await t.request('POST', '/api/v1/policies/lint', { key, body: { source: bigPolicy(300) } })).body.ok).toBe(true);
  });
});
