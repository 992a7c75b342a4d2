import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadPolicy, parseIsoTime, parsePolicyTestCases, runPolicyTests, TollgateError } from '@tollgate/core';
import type { CompiledPolicy, PolicyDiagnostic } from '@tollgate/core';
import { MAX_REPLAY_LIMIT, dataFlowFingerprint, migrateStore, replayDecisions } from '@tollgate/server';
import type { ReplayReport } from '@tollgate/server';
import { printableText } from '../printable-text.js';
import { answerOf, apiKeyOf, configFrom, openCommandStore, print, printJson, urlFlag, withStorageFlags, type StorageFlags } from './shared.js';

/** Exit codes of `tollgate policy` (1 = error, 2 = configuration error, as for every command). */
export const POLICY_EXIT_CODES = { ok: 0, invalid: 4, testsFailed: 5, decisionsChanged: 6 } as const;

function formatDiagnostic(file: string, diagnostic: PolicyDiagnostic): string {
  return `${file}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.severity} ${diagnostic.code}: ${diagnostic.message}`;
}

/**
 * Lints a policy file; returns the printed lines and the exit code (0 ok, 4 invalid).
 *
 * @example
 * const { lines, exitCode } = lintPolicyFile('policy.yaml');
 */
export function lintPolicyFile(file: string): { lines: string[]; exitCode: number; policy: CompiledPolicy | null } {
  const loaded = loadPolicy(readFileSync(file, 'utf8'));
  const lines = loaded.diagnostics.map((diagnostic) => formatDiagnostic(file, diagnostic));
  if (!loaded.ok) return { lines, exitCode: POLICY_EXIT_CODES.invalid, policy: null };
  const { rules, agents } = loaded.policy.document;
  lines.push(`${file}: ok (${rules.length} rules, ${Object.keys(agents).length} agent entries)`);
  return { lines, exitCode: POLICY_EXIT_CODES.ok, policy: loaded.policy };
}

/**
 * Runs YAML test cases against a policy file (`opa test` style); exit 0 when all pass, 5 otherwise.
 *
 * @example
 * const { exitCode } = testPolicyFile('policy.yaml', 'cases.yaml');
 */
export function testPolicyFile(file: string, casesFile: string): { lines: string[]; exitCode: number } {
  const lint = lintPolicyFile(file);
  if (!lint.policy) return lint;
  const cases = parsePolicyTestCases(readFileSync(casesFile, 'utf8'));
  const results = runPolicyTests(lint.policy, cases);
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.passed ? 'PASS' : 'FAIL'} ${result.name}`);
    for (const failure of result.failures) lines.push(`     call ${failure.call}: ${failure.message}`);
  }
  const failed = results.filter((result) => !result.passed).length;
  lines.push(`${results.length - failed}/${results.length} cases passed`);
  return { lines, exitCode: failed === 0 ? POLICY_EXIT_CODES.ok : POLICY_EXIT_CODES.testsFailed };
}

interface ReplayFlags extends StorageFlags {
  url?: string;
  apiKey?: string;
  policyId?: string;
  tenant?: string;
  from?: string;
  to?: string;
  agent?: string;
  limit?: string;
  json?: boolean;
  failOnChange?: boolean;
}

function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseIsoTime(value);
  if (ms === undefined) throw new TollgateError('VALIDATION_FAILED', `${flag} must be an ISO-8601 date or date-time`);
  return ms;
}

/** `--limit`: a whole number of decisions, 1 to the server's most (a bad value was replayed as 1, 0 or a SQL error). */
function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_REPLAY_LIMIT) {
    throw new TollgateError('VALIDATION_FAILED', `--limit must be a whole number from 1 to ${MAX_REPLAY_LIMIT}, not ${value}`);
  }
  return limit;
}

/** The replay flags that need parsing, parsed once, before any database or server is touched. */
interface ReplayRange {
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly limit: number | undefined;
}

function replayRangeOf(flags: ReplayFlags): ReplayRange {
  const limit = parseLimit(flags.limit);
  const from = parseTime(flags.from, '--from');
  const to = parseTime(flags.to, '--to');
  if (from !== undefined && to !== undefined && from > to) throw new TollgateError('VALIDATION_FAILED', '--from is later than --to');
  return { from, to, limit };
}

async function replayRemote(source: string, flags: ReplayFlags, range: ReplayRange): Promise<ReplayReport> {
  if (!flags.url) throw new TollgateError('VALIDATION_FAILED', 'replay over a server needs --url');
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKeyOf(flags, 'policies')}` };
  let policyId = flags.policyId;
  if (policyId === undefined) {
    const listed = await fetch(new URL('/api/v1/policies', flags.url), { headers });
    const body = await answerOf<{ policies?: Array<{ id: string; active: boolean }> }>('/api/v1/policies', listed);
    policyId = body.policies?.find((policy) => policy.active)?.id ?? body.policies?.[0]?.id;
    if (!policyId) throw new TollgateError('NOT_FOUND', 'the server has no policy to simulate against; create one or pass --policy-id');
  }
  const response = await fetch(new URL(`/api/v1/policies/${encodeURIComponent(policyId)}/simulate`, flags.url), {
    method: 'POST', headers,
    body: JSON.stringify({ source, ...(flags.from ? { from: flags.from } : {}), ...(flags.to ? { to: flags.to } : {}), ...(flags.agent ? { agentId: flags.agent } : {}), ...(range.limit === undefined ? {} : { limit: range.limit }) }),
  });
  return answerOf<ReplayReport>('simulate', response);
}

async function replayLocal(policy: CompiledPolicy, flags: ReplayFlags, range: ReplayRange): Promise<ReplayReport> {
  const config = configFrom(flags);
  const store = openCommandStore(config);
  try {
    await migrateStore(store);
    return await replayDecisions(store.decisions, flags.tenant ?? 'default', policy, {
      from: range.from, to: range.to, agentId: flags.agent, limit: range.limit, fingerprint: dataFlowFingerprint(config.dataFlowKey),
    });
  } finally {
    await store.close();
  }
}

/**
 * The replay report as lines. Agent ids, tool names and reasons (from a server, with `--url`) stay on their line:
 * control characters are shown, not interpreted.
 */
function formatReport(report: ReplayReport): string[] {
  const lines = [`${report.scanned} decisions replayed: ${report.changed} would change, ${report.unchanged} unchanged, ${report.skipped} skipped (kill switch)${report.truncated ? ' — truncated at --limit' : ''}; compared with the policy's decision at the time (before modes and approvals)`];
  for (const [transition, count] of Object.entries(report.transitions)) lines.push(`  ${transition}: ${count}`);
  for (const example of report.examples) {
    const answered = example.recorded.answered !== example.recorded.decision ? ` (answered ${example.recorded.answered})` : '';
    lines.push(`  ${example.ts} ${example.agentId} ${example.toolName} (${example.decisionId}): ${example.recorded.decision}${answered} → ${example.replayed.decision}: ${example.replayed.reason}`);
  }
  return lines.map((line) => printableText(line));
}

/**
 * `tollgate policy lint FILE`, `policy test FILE --cases CASES.yaml`, `policy replay FILE`.
 *
 * @example
 * registerPolicyCommand(program);
 */
export function registerPolicyCommand(program: Command): void {
  const policy = program.command('policy').description('Policy language: lint, test cases, replay of recorded decisions');
  policy.command('lint <file>').description('Report YAML/JSON and CEL errors with line and column; exit 4 when invalid')
    .action((file: string) => {
      const { lines, exitCode } = lintPolicyFile(file);
      for (const line of lines) print(line);
      process.exitCode = exitCode;
    });
  policy.command('test <file>').description('Run YAML test cases (input → expected decision); exit 5 when a case fails')
    .requiredOption('--cases <file>', 'YAML file with `cases:` (docs/policy-language.md)')
    .action((file: string, flags: { cases: string }) => {
      const { lines, exitCode } = testPolicyFile(file, flags.cases);
      for (const line of lines) print(line);
      process.exitCode = exitCode;
    });
  withStorageFlags(policy.command('replay <file>'))
    .description('Re-evaluate recorded decisions against a policy file and report what would change')
    .option('--url <url>', 'replay on a running server (POST /api/v1/policies/{id}/simulate) instead of the database', urlFlag('--url'))
    .option('--api-key <key>', 'API key for --url (scope policies; default: env TOLLGATE_API_KEY)')
    .option('--policy-id <id>', 'with --url: the policy to simulate under (default: the active one)')
    .option('--tenant <id>', 'without --url: tenant whose decisions to replay', 'default')
    .option('--from <iso>', 'first decision time (ISO-8601)')
    .option('--to <iso>', 'last decision time (ISO-8601)')
    .option('--agent <id>', 'only this agent')
    .option('--limit <n>', 'most decisions to replay (default 10000)')
    .option('--json', 'print the full report as JSON')
    .option('--fail-on-change', 'exit 6 when a decision would change')
    .action(async (file: string, flags: ReplayFlags) => {
      const lint = lintPolicyFile(file);
      if (!lint.policy) {
        for (const line of lint.lines) print(line);
        process.exitCode = lint.exitCode;
        return;
      }
      const range = replayRangeOf(flags);
      const report = flags.url ? await replayRemote(readFileSync(file, 'utf8'), flags, range) : await replayLocal(lint.policy, flags, range);
      if (flags.json) printJson(report);
      else for (const line of formatReport(report)) print(line);
      process.exitCode = flags.failOnChange && report.changed > 0 ? POLICY_EXIT_CODES.decisionsChanged : POLICY_EXIT_CODES.ok;
    });
}
