import type { ComplianceStatusView, StoredFrameworkEvaluation } from './compliance-service.js';
import { COMPLIANCE_DISCLAIMER, type CheckResult, type LedgerCheckpointEvidence } from './types.js';

/** `getEvidencePackage(framework, 'json')`. */
export interface EvidencePackage {
  type: 'tollgate.compliance-evidence/v1';
  generated_at: string;
  disclaimer: string;
  framework: StoredFrameworkEvaluation['framework'];
  framework_name: string;
  evaluation: StoredFrameworkEvaluation;
  verification: VerificationSteps;
}

/** `exportComplianceReport('json')`: every configured framework. */
export interface ComplianceReport {
  type: 'tollgate.compliance-report/v1';
  generated_at: string;
  disclaimer: string;
  agent_id: number;
  agent_name: string;
  summary: Array<{ framework: string; framework_name: string; label: string; coverage_percent: number; covered: number; partial: number; gap: number; total: number; evaluated_at: string; stale: boolean }>;
  frameworks: StoredFrameworkEvaluation[];
  verification: VerificationSteps;
}

/** How an auditor checks the ledger evidence without trusting this server. */
export interface VerificationSteps {
  checkpoint: LedgerCheckpointEvidence | null;
  evaluation_record_index: number | null;
  commands: string[];
}

function verificationSteps(evaluation: StoredFrameworkEvaluation | undefined, serverUrl: string): VerificationSteps {
  const checkpoint = evaluation?.ledger_checkpoint ?? null;
  const index = evaluation?.ledger_index ?? null;
  const commands = [
    `tollgate audit export --url ${serverUrl} --api-key <key with audit:read> --out bundle.jsonl`,
    ...(checkpoint ? [
      '# save the checkpoint note below, verbatim, as checkpoint.txt',
      `tollgate audit verify bundle.jsonl --trusted-checkpoint checkpoint.txt --public-key '${checkpoint.public_key}'`,
    ] : ['tollgate audit verify bundle.jsonl']),
    ...(index === null ? [] : [`tollgate audit proof --url ${serverUrl} --api-key <key with audit:read> --index ${index}`]),
  ];
  return { checkpoint, evaluation_record_index: index, commands };
}

/**
 * The evidence package of one framework (JSON form).
 *
 * @example
 * const pkg = buildEvidencePackage(evaluation, 'https://tollgate.example.com', Date.now());
 */
export function buildEvidencePackage(evaluation: StoredFrameworkEvaluation, serverUrl: string, at: number): EvidencePackage {
  return {
    type: 'tollgate.compliance-evidence/v1', generated_at: new Date(at).toISOString(), disclaimer: COMPLIANCE_DISCLAIMER,
    framework: evaluation.framework, framework_name: evaluation.framework_name, evaluation, verification: verificationSteps(evaluation, serverUrl),
  };
}

/**
 * The coverage report over every configured framework (JSON form).
 *
 * @example
 * const report = buildComplianceReport(status, 'https://tollgate.example.com', Date.now());
 */
export function buildComplianceReport(status: ComplianceStatusView, serverUrl: string, at: number): ComplianceReport {
  const frameworks = status.configured_frameworks.map((code) => status.frameworks[code]).filter((e): e is StoredFrameworkEvaluation => e !== undefined);
  return {
    type: 'tollgate.compliance-report/v1', generated_at: new Date(at).toISOString(), disclaimer: COMPLIANCE_DISCLAIMER,
    agent_id: status.agent_id, agent_name: status.agent_name,
    summary: frameworks.map((e) => ({
      framework: e.framework, framework_name: e.framework_name, label: e.label, coverage_percent: e.coverage_percent,
      ...e.counts, evaluated_at: e.evaluated_at, stale: e.stale,
    })),
    frameworks, verification: verificationSteps(frameworks[0], serverUrl),
  };
}

const STATUS_MARK: Record<string, string> = { covered: 'covered', partial: 'partial', gap: '**gap**', pass: 'pass', fail: '**fail**' };

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function evidenceLines(check: CheckResult): string[] {
  return Object.entries(check.evidence)
    .filter(([key]) => key !== 'checkpoint')
    .map(([key, value]) => `  - ${key}: \`${cell(JSON.stringify(value) ?? 'null')}\``);
}

function frameworkMarkdown(evaluation: StoredFrameworkEvaluation): string[] {
  const lines = [
    `## ${evaluation.framework_name} — ${evaluation.label} (${evaluation.coverage_percent}% of controls mapped)`, '',
    `Catalogue: ${evaluation.source}. Evaluated ${evaluation.evaluated_at}${evaluation.stale ? ' — **stale: the agent changed after this evaluation; re-run evaluateCompliance()**' : ''}.`,
    `Controls: ${evaluation.counts.covered} covered, ${evaluation.counts.partial} partial, ${evaluation.counts.gap} gap, of ${evaluation.counts.total}.`, '',
    '| Control | Maps to | Status | Evidence from |', '|---|---|---|---|',
    ...evaluation.controls.map((c) => `| ${c.id} ${cell(c.title)} | ${cell(c.reference)} | ${STATUS_MARK[c.status]} | ${c.checks.map((k) => `${k.id} (${k.status})`).join(', ')} |`),
    '',
  ];
  for (const control of evaluation.controls) {
    lines.push(`### ${control.id} — ${control.title}`, '', `Maps to ${control.reference}. Status: ${STATUS_MARK[control.status]}.`, '');
    for (const check of control.checks) lines.push(`- **${check.title}** (${check.status}): ${check.summary}`, ...evidenceLines(check));
    if (control.remediation.length > 0) lines.push('', 'Remediation:', ...control.remediation.map((step) => `1. ${step}`));
    lines.push('');
  }
  return lines;
}

function verificationMarkdown(steps: VerificationSteps): string[] {
  const cp = steps.checkpoint;
  return [
    '## Ledger evidence and how to verify it', '',
    ...(cp ? [
      `Every evaluation is recorded in the tenant's append-only Merkle ledger (record type \`compliance.evaluated\`${steps.evaluation_record_index === null ? '' : `, index ${steps.evaluation_record_index}`}).`,
      `Signed checkpoint at evaluation time: log \`${cp.origin}\`, tree size **${cp.tree_size}**, root hash \`${cp.root_hash}\`, signed ${cp.created_at} (signature ${cp.signature_valid ? 'verified' : '**did not verify**'}).`,
      '', 'Checkpoint note (save verbatim as `checkpoint.txt`):', '', '```', cp.note.trimEnd(), '```', '',
      `Public key: \`${cp.public_key}\``,
    ] : ['The ledger had no signed checkpoint at evaluation time.']),
    '', 'Verify offline, without trusting this server:', '', '```sh', ...steps.commands, '```', '',
    'A bundle that verifies against this checkpoint proves the log was only appended to since the evaluation.', '',
  ];
}

/**
 * The evidence package of one framework as Markdown.
 *
 * @example
 * renderEvidenceMarkdown(buildEvidencePackage(evaluation, url, Date.now()));
 */
export function renderEvidenceMarkdown(pkg: EvidencePackage): string {
  const e = pkg.evaluation;
  return [
    `# ${pkg.framework_name} evidence package — agent ${e.agent.name}`, '',
    `> ${pkg.disclaimer}`, '',
    `Generated ${pkg.generated_at} by Tollgate. Agent id ${e.agent.id}, version ${e.agent.version}, sandbox template ${e.agent.sandbox_template ?? 'none'}, entry code SHA-256 \`${e.agent.code_sha256}\`.`, '',
    ...frameworkMarkdown(e),
    ...verificationMarkdown(pkg.verification),
  ].join('\n');
}

/**
 * The coverage report over every configured framework as Markdown.
 *
 * @example
 * renderReportMarkdown(buildComplianceReport(status, url, Date.now()));
 */
export function renderReportMarkdown(report: ComplianceReport): string {
  return [
    `# Compliance coverage report — agent ${report.agent_name}`, '',
    `> ${report.disclaimer}`, '',
    `Generated ${report.generated_at} by Tollgate for agent id ${report.agent_id}.`, '',
    '| Framework | Coverage | Status | Covered | Partial | Gap |', '|---|---|---|---|---|---|',
    ...report.summary.map((s) => `| ${s.framework_name} | ${s.coverage_percent}% | ${s.label} | ${s.covered} | ${s.partial} | ${s.gap} |`), '',
    ...report.frameworks.flatMap(frameworkMarkdown),
    ...verificationMarkdown(report.verification),
  ].join('\n');
}
