import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { SDKError, SecureAgent } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

// The seed's "Controls Mapping & Evidence" sample, as written; only the package name differs. The harness wraps it
// in an async function (CommonJS has no top-level await) and prints what it got; key and URL come from the
// environment (TOLLGATE_API_KEY, TOLLGATE_API_URL), since the sample passes no apiKey.
const SEED_COMPLIANCE_SAMPLE = `
const { SecureAgent } = require('@tollgate/sdk');

// Apply compliance frameworks at configure() time
const agent = new SecureAgent({
  compliance: ['eu_ai_act', 'soc2', 'nist_ai_rmf'],
});
await agent.configure(); // evaluates immediately

// Get current compliance status
const status = await agent.getComplianceStatus();

// Generate evidence package for compliance team review
const evidence = await agent.getEvidencePackage('eu_ai_act', 'markdown');
// → controls-mapped evidence document — audit-prepared, not a certification

// Export full compliance coverage report (JSON)
const report = await agent.exportComplianceReport('json');
`;

describe('SecureAgent compliance against a real server', () => {
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    t = await startTestServer();
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs the seed compliance sample as written (CommonJS require, key and URL from the environment)', async () => {
    const dir = mkdtempSync(join(here, '.compliance-'));
    try {
      const print = 'console.log(JSON.stringify({ status, evidence, report }));';
      writeFileSync(join(dir, 'sample.cjs'), `(async () => {\n${SEED_COMPLIANCE_SAMPLE}\n${print}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'sample.cjs')], {
        env: { ...process.env, TOLLGATE_API_URL: t.url, TOLLGATE_API_KEY: key }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024,
      });
      const { status, evidence, report } = JSON.parse(stdout) as { status: any; evidence: string; report: any };
      expect(Object.keys(status.frameworks).sort()).toEqual(['eu_ai_act', 'nist_ai_rmf', 'soc2']);
      expect(status.frameworks.soc2.controls.length).toBeGreaterThan(5);
      expect(['MAPPED', 'DOCUMENTED', 'Gap identified']).toContain(status.frameworks.eu_ai_act.label);
      expect(evidence).toMatch(/^# EU AI Act evidence package/);
      expect(evidence).toContain('not a certification');
      expect(evidence).toContain(status.frameworks.eu_ai_act.ledger_checkpoint.root_hash);
      expect(report.summary.map((s: { framework: string }) => s.framework)).toEqual(['eu_ai_act', 'soc2', 'nist_ai_rmf']);
      // configure() evaluated (one ledger record); getComplianceStatus() read the cache and did not evaluate again.
      const records = await t.request('GET', `/api/v1/audit/records?actionTypes=compliance.evaluated&agentId=${status.agent_id}`, { key });
      expect(records.body.total).toBe(1);
      expect(status.frameworks.eu_ai_act.ledger_index).toBe(records.body.events[0].id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('evaluateCompliance() after moving the agent from STRICT to DEV reports the robustness control as a gap', async () => {
    const strict = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'sdk-compliance', sandbox: 'STRICT', compliance: ['eu_ai_act', 'soc2'] });
    await strict.configure();
    const before = await strict.getComplianceStatus();
    const robustness = (status: typeof before) => status.frameworks.eu_ai_act?.controls.find((c) => c.id === 'EU-ART15-ROBUSTNESS')?.status;
    expect(robustness(before)).toBe('covered');
    // Someone moves the agent to DEV behind the client's back (REST PATCH keeps the stored compliance codes).
    const stored = await t.request('GET', `/api/v1/sdk/agents/${strict.agentId}`, { key });
    await t.request('PATCH', `/api/v1/sdk/agents/${strict.agentId}`, { key, body: { config: { ...stored.body.agent.config, sandbox_template: 'DEV' } } });
    expect((await strict.getComplianceStatus()).frameworks.eu_ai_act?.stale).toBe(true);
    const after = await strict.evaluateCompliance();
    expect(robustness(after)).toBe('gap');
    expect(after.frameworks.eu_ai_act?.label).toBe('Gap identified');
  });

  it('getEvidencePackage(json) and exportComplianceReport(markdown|pdf) return the documents; failures keep codes', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'sdk-docs', sandbox: 'STRICT', compliance: ['soc2'] });
    await agent.configure();
    const pkg = await agent.getEvidencePackage('soc2', 'json');
    expect(pkg).toMatchObject({ type: 'tollgate.compliance-evidence/v1', framework: 'soc2' });
    expect(pkg.verification.checkpoint?.signature_valid).toBe(true);
    expect(await agent.exportComplianceReport('markdown')).toContain('| SOC 2 |');
    const pdf = await agent.exportComplianceReport('pdf');
    expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-');
    await expect(agent.getEvidencePackage('eu_ai_act')).rejects.toMatchObject({ code: 'COMPLIANCE_NOT_CONFIGURED', status: 409 });
    await expect(agent.getEvidencePackage('iso_42001' as never)).rejects.toMatchObject({ code: 'COMPLIANCE_FRAMEWORK_UNKNOWN', status: 400 });
    await expect(agent.exportComplianceReport('docx' as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    const bare = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'sdk-bare' });
    const error = await bare.getComplianceStatus().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SDKError);
    expect(error).toMatchObject({ code: 'COMPLIANCE_NOT_CONFIGURED' });
  });
});
