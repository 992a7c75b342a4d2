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

// Every value below is put into Markdown through one of three helpers, so none can add structure (headings, links,
// images, HTML, list items, table cells) to a document handed to auditors: an agent's name and version are set by a
// key restricted to that agent, and evaluations stored before those fields were checked keep what they had.

/** One line: line breaks and other controls become spaces, invisible format characters a visible U+FFFD. */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ').replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '\uFFFD').trim();
}

/**
 * Text with the Markdown characters that can start structure backslash-escaped (CommonMark renders an escaped ASCII
 * punctuation character as itself): emphasis, code, links, images, HTML, entities, tables, headings, list markers
 * at the start, and GFM's bare-URL, www. and e-mail autolinks.
 */
function text(value: string | number): string {
  if (typeof value === 'number') return String(value); // digits, '.', '-', 'e': nothing that starts structure mid-line
  return oneLine(value)
    .replace(/[\\`*_[\]<>&|~#]/g, '\\$&')
    .replace(/^([-+=])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2')
    .replace(/:\/\//g, '\\://').replace(/(www)\./gi, '$1\\.').replace(/@/g, '\\@');
}

/** A code span that holds any value: the fence is longer than any backtick run inside it. */
function code(value: string): string {
  const flat = oneLine(value);
  const fence = '`'.repeat(Math.max(0, ...[...flat.matchAll(/`+/g)].map((run) => run[0].length)) + 1);
  const pad = flat === '' || flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced block whose fence no line of `lines` can close. */
function fenced(info: string, lines: readonly string[]): string[] {
  const longest = Math.max(2, ...lines.flatMap((line) => [...line.matchAll(/`+/g)].map((run) => run[0].length)));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${info}`, ...lines, fence];
}

function evidenceLines(check: CheckResult): string[] {
  return Object.entries(check.evidence)
    .filter(([key]) => key !== 'checkpoint')
    .map(([key, value]) => `  - ${text(key)}: ${code(JSON.stringify(value) ?? 'null')}`);
}

function frameworkMarkdown(evaluation: StoredFrameworkEvaluation): string[] {
  const lines = [
    `## ${text(evaluation.framework_name)} — ${text(evaluation.label)} (${text(evaluation.coverage_percent)}% of controls mapped)`, '',
    `Catalogue: ${text(evaluation.source)}. Evaluated ${text(evaluation.evaluated_at)}${evaluation.stale ? ' — **stale: the agent changed after this evaluation; re-run evaluateCompliance()**' : ''}.`,
    `Controls: ${text(evaluation.counts.covered)} covered, ${text(evaluation.counts.partial)} partial, ${text(evaluation.counts.gap)} gap, of ${text(evaluation.counts.total)}.`, '',
    '| Control | Maps to | Status | Evidence from |', '|---|---|---|---|',
    ...evaluation.controls.map((c) => `| ${text(c.id)} ${text(c.title)} | ${text(c.reference)} | ${STATUS_MARK[c.status] ?? text(c.status)} | ${c.checks.map((k) => `${text(k.id)} (${text(k.status)})`).join(', ')} |`),
    '',
  ];
  for (const control of evaluation.controls) {
    lines.push(`### ${text(control.id)} — ${text(control.title)}`, '', `Maps to ${text(control.reference)}. Status: ${STATUS_MARK[control.status] ?? text(control.status)}.`, '');
    for (const check of control.checks) lines.push(`- **${text(check.title)}** (${text(check.status)}): ${text(check.summary)}`, ...evidenceLines(check));
    if (control.remediation.length > 0) lines.push('', 'Remediation:', ...control.remediation.map((step) => `1. ${text(step)}`));
    lines.push('');
  }
  return lines;
}

function verificationMarkdown(steps: VerificationSteps): string[] {
  const cp = steps.checkpoint;
  return [
    '## Ledger evidence and how to verify it', '',
    ...(cp ? [
      `Every evaluation is recorded in the tenant's append-only Merkle ledger (record type \`compliance.evaluated\`${steps.evaluation_record_index === null ? '' : `, index ${text(steps.evaluation_record_index)}`}).`,
      `Signed checkpoint at evaluation time: log ${code(cp.origin)}, tree size **${text(cp.tree_size)}**, root hash ${code(cp.root_hash)}, signed ${text(cp.created_at)} (signature ${cp.signature_valid ? 'verified' : '**did not verify**'}).`,
      '', 'Checkpoint note (save verbatim as `checkpoint.txt`):', '', ...fenced('', cp.note.trimEnd().split('\n')), '',
      `Public key: ${code(cp.public_key)}`,
    ] : ['The ledger had no signed checkpoint at evaluation time.']),
    '', 'Verify offline, without trusting this server:', '', ...fenced('sh', steps.commands.flatMap((command) => command.split('\n'))), '',
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
    `# ${text(pkg.framework_name)} evidence package — agent ${code(e.agent.name)}`, '',
    `> ${text(pkg.disclaimer)}`, '',
    `Generated ${text(pkg.generated_at)} by Tollgate. Agent id ${text(e.agent.id)}, version ${code(e.agent.version)}, sandbox template ${e.agent.sandbox_template === null ? 'none' : code(e.agent.sandbox_template)}, entry code SHA-256 ${code(e.agent.code_sha256)}.`, '',
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
    `# Compliance coverage report — agent ${code(report.agent_name)}`, '',
    `> ${text(report.disclaimer)}`, '',
    `Generated ${text(report.generated_at)} by Tollgate for agent id ${text(report.agent_id)}.`, '',
    '| Framework | Coverage | Status | Covered | Partial | Gap |', '|---|---|---|---|---|---|',
    ...report.summary.map((s) => `| ${text(s.framework_name)} | ${text(s.coverage_percent)}% | ${text(s.label)} | ${text(s.covered)} | ${text(s.partial)} | ${text(s.gap)} |`), '',
    ...report.frameworks.flatMap(frameworkMarkdown),
    ...verificationMarkdown(report.verification),
  ].join('\n');
}
