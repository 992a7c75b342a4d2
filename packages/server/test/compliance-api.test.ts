import { randomBytes } from 'node:crypto';
import { merkle, verifyBundle } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const ALL = ['eu_ai_act', 'soc2', 'nist_ai_rmf'];
const STRICT_CONFIG = { sandbox_template: 'STRICT', permissions: ['compute:read', 'data:read'], compliance: ALL };

type Status = { frameworks: Record<string, { label: string; coverage_percent: number; stale: boolean; ledger_index: number; controls: Array<{ id: string; status: string; remediation: string[]; checks: Array<{ id: string; status: string; evidence: Record<string, unknown> }> }> }> };

function control(status: Status, framework: string, id: string) {
  const found = status.frameworks[framework]?.controls.find((c) => c.id === id);
  if (!found) throw new Error(`no control ${id} in ${framework}`);
  return found;
}

async function registerAgent(t: TestServer, key: string, name: string, config: Record<string, unknown>): Promise<number> {
  const created = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name, config } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.agent.id as number;
}

// Compliance evidence over REST on a real server (SQLite): evaluation follows the agent's real state.
describe('compliance API', () => {
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    t = await startTestServer();
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('evaluates a STRICT agent, then DEV drops robustness and cybersecurity controls to gap after evaluate', async () => {
    const id = await registerAgent(t, key, 'strict-then-dev', STRICT_CONFIG);
    const first = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance`, { key });
    expect(first.status).toBe(200);
    expect(first.body.configured_frameworks).toEqual(ALL);
    expect(first.body.disclaimer).toContain('not a certification or compliance score');
    expect(control(first.body, 'eu_ai_act', 'EU-ART15-ROBUSTNESS').status).toBe('covered');
    expect(control(first.body, 'eu_ai_act', 'EU-ART15-CYBERSECURITY').status).toBe('covered');
    expect(control(first.body, 'soc2', 'CC6.8').status).toBe('covered');

    const patched = await t.request('PATCH', `/api/v1/sdk/agents/${id}`, { key, body: { config: { ...STRICT_CONFIG, sandbox_template: 'DEV' } } });
    expect(patched.status).toBe(200);
    const cached = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance`, { key });
    expect(cached.body.frameworks.eu_ai_act.stale).toBe(true);
    expect(control(cached.body, 'eu_ai_act', 'EU-ART15-ROBUSTNESS').status).toBe('covered');

    const evaluated = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    expect(evaluated.status).toBe(200);
    const robustness = control(evaluated.body, 'eu_ai_act', 'EU-ART15-ROBUSTNESS');
    expect(robustness.status).toBe('gap');
    expect(robustness.remediation.join(' ')).toContain('STRICT');
    expect(control(evaluated.body, 'eu_ai_act', 'EU-ART15-CYBERSECURITY').status).toBe('gap');
    expect(control(evaluated.body, 'soc2', 'CC6.8').status).toBe('gap');
    expect(control(evaluated.body, 'nist_ai_rmf', 'MEASURE-2.7').status).toBe('gap');
    expect(evaluated.body.frameworks.eu_ai_act.label).toBe('Gap identified');
    expect(evaluated.body.frameworks.eu_ai_act.coverage_percent).toBeLessThan(first.body.frameworks.eu_ai_act.coverage_percent);
    expect(evaluated.body.frameworks.eu_ai_act.stale).toBe(false);
    // Controls that do not depend on the template did not move.
    expect(control(evaluated.body, 'eu_ai_act', 'EU-ART12-LOGGING').status).toBe('covered');
  });

  it('a TLD-wide wildcard domain is refused; the FULL scope set drops the least-privilege controls to gap', async () => {
    const id = await registerAgent(t, key, 'wildcard', STRICT_CONFIG);
    const before = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    expect(control(before.body, 'soc2', 'CC6.1').status).toBe('covered');
    // A wildcard over a whole top-level domain (or `*`) can no longer be configured: validation refuses it (400), so
    // the least-privilege controls cannot be turned into a gap that way any more (the check stays for old data).
    for (const broad of ['*.com', '*']) {
      const refused = await t.request('PATCH', `/api/v1/sdk/agents/${id}`, { key, body: { config: { ...STRICT_CONFIG, allowed_domains: ['api.example.com', broad] } } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    }
    const still = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    expect(control(still.body, 'soc2', 'CC6.1').status).toBe('covered');

    await t.request('PATCH', `/api/v1/sdk/agents/${id}`, { key, body: { config: { ...STRICT_CONFIG, permissions: ['compute:read', 'compute:write', 'inference:call', 'data:read', 'data:write', 'network:outbound', 'storage:read', 'storage:write', 'agents:read', 'agents:write'] } } });
    const full = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    expect(control(full.body, 'soc2', 'CC6.1').checks.find((c) => c.id === 'permission_scopes')?.evidence.all_scopes_granted).toBe(true);
    expect(control(full.body, 'soc2', 'CC6.1').status).toBe('gap');
  });

  it('a kill-switch drill and a reviewed permission request turn their checks from partial to pass', async () => {
    const id = await registerAgent(t, key, 'drilled', STRICT_CONFIG);
    const before = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    expect(control(before.body, 'eu_ai_act', 'EU-ART14-STOP').status).toBe('partial');
    await t.request('POST', `/api/sdk/agents/${id}/kill`, { key, body: { reason: 'drill' } });
    await t.request('POST', `/api/sdk/agents/${id}/unkill`, { key, body: { reason: 'drill over' } });
    const request = await t.request('POST', '/api/sdk/permission-requests', { key, body: { agent_id: id, permissions: { memory_limit_mb: 200 } } });
    await t.request('POST', `/api/sdk/permission-requests/${request.body.id}/deny`, { key: t.tenantA.adminKey, body: { comment: 'not needed' } });
    const after = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    const stop = control(after.body, 'eu_ai_act', 'EU-ART14-STOP');
    expect(stop.status).toBe('covered');
    expect(stop.checks[0]?.evidence.agent_events).toBe(2);
    const cc63 = control(after.body, 'soc2', 'CC6.3');
    expect(cc63.checks.find((c) => c.id === 'permission_requests')?.status).toBe('pass');
  });

  it('an active policy with a STEP_UP rule covers human oversight; approvedScope "*" for the agent is a gap', async () => {
    const tenant = await t.createTenant('policy-tenant');
    const policyKey = (await t.services.keys.create({ tenantId: tenant.id, scopes: ['agents'] })).token;
    const id = await registerAgent(t, policyKey, 'overseen', STRICT_CONFIG);
    const before = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key: policyKey, body: {} });
    expect(control(before.body, 'nist_ai_rmf', 'MAP-3.5').status).toBe('gap');
    expect(control(before.body, 'nist_ai_rmf', 'GOVERN-1.4').status).toBe('partial');
    const source = (scope: string) => [
      'name: oversight', 'agents:', '  overseen:', `    approvedScope: [${scope}]`, 'rules:',
      '  - id: large-refund', '    match: { tools: [issue_refund] }', '    when: args.amount > 500', '    effect: STEP_UP', '    reason: refunds above 500 need a human', '',
    ].join('\n');
    const policy = await t.services.policies.create(tenant.id, { name: 'oversight', source: source('search_kb') }, null);
    await t.services.policies.activate(tenant.id, policy.id, 1, null);
    const overseen = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key: policyKey, body: {} });
    expect(control(overseen.body, 'nist_ai_rmf', 'MAP-3.5').status).toBe('covered');
    expect(control(overseen.body, 'nist_ai_rmf', 'MAP-3.5').checks[0]?.evidence.step_up_rules).toEqual(['large-refund']);
    expect(control(overseen.body, 'nist_ai_rmf', 'GOVERN-1.4').status).toBe('covered');
    await t.services.policies.addVersion(tenant.id, policy.id, { source: source('"*"') }, null);
    await t.services.policies.activate(tenant.id, policy.id, 2, null);
    const wildcard = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key: policyKey, body: {} });
    const govern = control(wildcard.body, 'nist_ai_rmf', 'GOVERN-1.4');
    expect(govern.status).toBe('gap');
    expect(govern.checks[0]?.evidence.wildcard_scopes).toEqual(['overseen']);
  });

  it('a secret hard-coded in the entry code is a cybersecurity gap, reported without its value', async () => {
    const secret = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const created = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'leaky', entry_code: `const token = "${secret}"; return 1;`, config: STRICT_CONFIG } });
    const status = await t.request('POST', `/api/v1/sdk/agents/${created.body.agent.id}/compliance/evaluate`, { key, body: {} });
    const cyber = control(status.body, 'eu_ai_act', 'EU-ART15-CYBERSECURITY');
    expect(cyber.status).toBe('gap');
    expect((cyber.checks.find((c) => c.id === 'credential_vault')?.evidence.secrets_in_entry_code as string[]).length).toBe(1);
    const markdown = await t.request('GET', `/api/v1/sdk/agents/${created.body.agent.id}/compliance/report?format=markdown`, { key });
    expect(JSON.stringify(status.body) + markdown.body).not.toContain(secret);
  });

  it('the evidence package carries the real signed checkpoint, which the exported ledger bundle verifies against', async () => {
    const id = await registerAgent(t, key, 'evidence', STRICT_CONFIG);
    const evaluated = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    const pkg = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/evidence/eu_ai_act?format=json`, { key });
    expect(pkg.status).toBe(200);
    const checkpoint = pkg.body.verification.checkpoint;
    expect(checkpoint.signature_valid).toBe(true);
    const stored = (await t.store.ledger.checkpoints(t.tenantA.id)).find((cp) => cp.size === checkpoint.tree_size);
    expect(stored && merkle.toHex(stored.rootHash)).toBe(checkpoint.root_hash);
    expect(pkg.body.verification.evaluation_record_index).toBe(evaluated.body.frameworks.eu_ai_act.ledger_index);
    const record = await t.request('GET', `/api/v1/audit/records/${pkg.body.verification.evaluation_record_index}/verify`, { key });
    expect(record.body.verified).toBe(true);
    const bundle = await t.request('GET', '/api/v1/audit/bundle', { key });
    const verification = verifyBundle(bundle.body, { trustedCheckpoint: checkpoint.note, expectedPublicKey: checkpoint.public_key });
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);

    const markdown = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/evidence/eu_ai_act`, { key });
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    expect(markdown.body).toContain(checkpoint.root_hash);
    expect(markdown.body).toContain(`tree size **${checkpoint.tree_size}**`);
    expect(markdown.body).toContain('not a certification');
    expect(markdown.body).toContain('Article 14(4)(e)');
    expect(markdown.body).toContain('tollgate audit verify bundle.jsonl --trusted-checkpoint checkpoint.txt');
  });

  it('exports the coverage report as json, markdown and pdf', async () => {
    const id = await registerAgent(t, key, 'reported', { ...STRICT_CONFIG, compliance: ['soc2', 'nist_ai_rmf'] });
    const json = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/report?format=json`, { key });
    expect(json.status).toBe(200);
    expect(json.body.summary.map((s: { framework: string }) => s.framework)).toEqual(['soc2', 'nist_ai_rmf']);
    expect(json.body.frameworks[1].controls.length).toBeGreaterThan(5);
    const markdown = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/report?format=markdown`, { key });
    expect(markdown.body).toContain('| SOC 2 |');
    const pdf = await fetch(`${t.url}/api/v1/sdk/agents/${id}/compliance/report?format=pdf`, { headers: { authorization: `Bearer ${key}` } });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.length).toBeGreaterThan(2000);
    const notConfigured = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/evidence/eu_ai_act`, { key });
    expect(notConfigured.status).toBe(409);
    expect(notConfigured.body.error.code).toBe('COMPLIANCE_NOT_CONFIGURED');
  });

  it('refuses unknown frameworks and formats with machine-readable codes, and agents without frameworks', async () => {
    const id = await registerAgent(t, key, 'refusals', STRICT_CONFIG);
    const unknown = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/evidence/iso_42001`, { key });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'COMPLIANCE_FRAMEWORK_UNKNOWN', details: { field: 'framework' } });
    const format = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/report?format=docx`, { key });
    expect(format.status).toBe(400);
    expect(format.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(format.body.error.details)).toContain('format');
    const bare = await registerAgent(t, key, 'no-frameworks', { sandbox_template: 'STRICT' });
    for (const [method, path] of [['GET', 'compliance'], ['POST', 'compliance/evaluate'], ['GET', 'compliance/report'], ['GET', 'compliance/evidence/soc2']] as const) {
      const res = await t.request(method, `/api/v1/sdk/agents/${bare}/${path}`, { key, ...(method === 'POST' ? { body: {} } : {}) });
      expect(res.status, path).toBe(409);
      expect(res.body.error.code).toBe('COMPLIANCE_NOT_CONFIGURED');
      expect(res.body.error.message).toContain('config.compliance');
    }
    const badCode = await registerAgent(t, key, 'bad-code', { compliance: ['gdpr'] });
    const res = await t.request('GET', `/api/v1/sdk/agents/${badCode}/compliance`, { key });
    expect(res.body.error).toMatchObject({ code: 'COMPLIANCE_FRAMEWORK_UNKNOWN', details: { field: 'config.compliance' } });
  });

  it("a key of tenant B never sees tenant A's agent (404 on every compliance route)", async () => {
    const id = await registerAgent(t, key, 'isolated', STRICT_CONFIG);
    await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    const other = t.tenantB.adminKey;
    for (const [method, path] of [['GET', 'compliance'], ['POST', 'compliance/evaluate'], ['GET', 'compliance/report?format=markdown'], ['GET', 'compliance/evidence/eu_ai_act?format=json']] as const) {
      const res = await t.request(method, `/api/v1/sdk/agents/${id}/${path}`, { key: other, ...(method === 'POST' ? { body: {} } : {}) });
      expect(res.status, path).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('isolated');
    }
    const records = await t.request('GET', '/api/v1/audit/records?actionTypes=compliance.evaluated', { key: other });
    expect(records.body.total).toBe(0);
    const own = await t.request('GET', `/api/v1/audit/records?actionTypes=compliance.evaluated&agentId=${id}`, { key });
    expect(own.body.total).toBe(1);
    expect(own.body.events[0].data ?? own.body.events[0]).toBeTruthy();
  });
});

const pgUrl = postgresTestUrl('compliance API on PostgreSQL');

// The same store paths on PostgreSQL: stored evaluations, the trigger lookup, the ledger evidence.
describe.skipIf(!pgUrl)('compliance API on PostgreSQL', () => {
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    t = await startTestServer({ postgresUrl: pgUrl });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('evaluates, caches, finds the append-only triggers and carries the checkpoint root', async () => {
    const id = await registerAgent(t, key, 'pg-compliance', STRICT_CONFIG);
    const evaluated = await t.request('POST', `/api/v1/sdk/agents/${id}/compliance/evaluate`, { key, body: {} });
    expect(evaluated.status).toBe(200);
    const integrity = control(evaluated.body, 'eu_ai_act', 'EU-ART12-INTEGRITY');
    expect(integrity.status).toBe('covered');
    expect(integrity.checks.find((c) => c.id === 'ledger_immutability')?.evidence.triggers).toEqual(expect.arrayContaining(['ledger_records_append_only', 'ledger_records_no_truncate']));
    const cached = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance`, { key });
    expect(cached.body.evaluated_at).toBe(evaluated.body.evaluated_at);
    const pkg = await t.request('GET', `/api/v1/sdk/agents/${id}/compliance/evidence/soc2?format=json`, { key });
    const stored = (await t.store.ledger.checkpoints(t.tenantA.id)).find((cp) => cp.size === pkg.body.verification.checkpoint.tree_size);
    expect(stored && merkle.toHex(stored.rootHash)).toBe(pkg.body.verification.checkpoint.root_hash);
  });
});
