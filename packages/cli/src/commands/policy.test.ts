import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../test-utils/index.js';
import { runCliCaptured, useTempFiles } from '../../test/run-cli.js';

const examples = fileURLToPath(new URL('../../../../examples/policies/', import.meta.url));

const cli = runCliCaptured;

describe('tollgate policy lint | test', () => {
  const file = useTempFiles('tollgate-policy-cli-').write;

  it('lint accepts the example policy', async () => {
    const res = await cli('policy', 'lint', `${examples}support-agent.yaml`);
    expect(res.code).toBe(0);
    expect(res.out).toContain('ok (6 rules');
  });

  it('lint reports a CEL error with file, line and column and exits 4', async () => {
    const path = await file('bad.yaml', 'rules:\n  - id: a\n    effect: BLOCK\n    when: args.x > > 1\n');
    const res = await cli('policy', 'lint', path);
    expect(res.code).toBe(4);
    expect(res.out).toContain(`${path}:4:20: error POLICY_CEL`);
  });

  it('test runs the example cases and they pass', async () => {
    const res = await cli('policy', 'test', `${examples}support-agent.yaml`, '--cases', `${examples}support-agent.cases.yaml`);
    expect(res.out).toMatch(/(\d+)\/\1 cases passed/);
    expect(res.code).toBe(0);
  });

  it('test exits 5 and names the failing call when a case fails', async () => {
    const cases = await file('cases.yaml', 'cases:\n  - name: wrong expectation\n    agent: support-bot\n    calls:\n      - { tool: search_kb, args: {}, expect: BLOCK }\n');
    const res = await cli('policy', 'test', `${examples}support-agent.yaml`, '--cases', cases);
    expect(res.code).toBe(5);
    expect(res.out).toContain('FAIL wrong expectation');
    expect(res.out).toContain('expected BLOCK, got ALLOW');
  });
});

describe('tollgate policy replay', () => {
  let t: TestServer;
  let dir = '';
  beforeAll(async () => {
    t = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'tollgate-policy-replay-'));
    const key = t.tenantA.adminKey;
    const permissive = 'agents: { "*": { approvedScope: ["*"] } }\nrules: []\n';
    await t.request('POST', '/api/v1/policies', { key, body: { name: 'open', source: permissive, activate: true } });
    for (const amount of [10, 600, 7000]) {
      await t.request('POST', '/v1/enforce', { key, body: { agentId: 'support-bot', toolName: 'issue_refund', arguments: { amount } } });
    }
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('over a server reports which recorded decisions the file would change', async () => {
    const res = await cli('policy', 'replay', `${examples}support-agent.yaml`, '--url', t.url, '--api-key', t.tenantA.adminKey, '--json');
    const report = JSON.parse(res.out);
    expect(report).toMatchObject({ scanned: 3, changed: 2, transitions: { 'ALLOW→STEP_UP': 1, 'ALLOW→BLOCK': 1 } });
    expect(report.examples[0].recorded.decision).toBe('ALLOW');
  });

  it('straight from the database gives the same answer and --fail-on-change exits 6', async () => {
    const res = await cli('policy', 'replay', `${examples}support-agent.yaml`, '--data-dir', t.config.dataDir, '--tenant', t.tenantA.id, '--fail-on-change');
    expect(res.out).toContain('3 decisions replayed: 2 would change');
    expect(res.code).toBe(6);
  });

  // Regression: --limit -4 and 0 replayed 1 decision, abc replayed none, 2.5 crashed with a SQL error; all exited 0.
  it.each(['-4', '0', 'abc', '2.5', '100001'])('refuses --limit %s with a message and exit 1', async (limit) => {
    const res = await cli('policy', 'replay', `${examples}support-agent.yaml`, '--data-dir', t.config.dataDir, '--tenant', t.tenantA.id, '--limit', limit);
    expect(res.code).toBe(1);
    expect(res.err).toContain('tollgate: VALIDATION_FAILED: --limit must be a whole number from 1 to 100000');
  });

  it('refuses --from later than --to, locally and on the server', async () => {
    const local = await cli('policy', 'replay', `${examples}support-agent.yaml`, '--data-dir', t.config.dataDir, '--from', '2026-02-02T00:00:00Z', '--to', '2026-02-01T00:00:00Z');
    expect(local.code).toBe(1);
    expect(local.err).toContain('--from is later than --to');
    const policies = await t.request('GET', '/api/v1/policies', { key: t.tenantA.adminKey });
    const id = policies.body.policies[0].id as string;
    const remote = await t.request('POST', `/api/v1/policies/${id}/simulate`, { key: t.tenantA.adminKey, body: { from: '2026-02-02T00:00:00Z', to: '2026-02-01T00:00:00Z' } });
    expect(remote.status).toBe(400);
    expect(remote.body.error.code).toBe('VALIDATION_FAILED');
  });
});
