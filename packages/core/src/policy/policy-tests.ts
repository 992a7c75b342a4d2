import { parse as parseYaml } from 'yaml';
import type { CompiledPolicy } from './compile.js';
import { parseDuration } from './duration.js';
import { evaluatePolicy } from './evaluate.js';
import { outputTaintEntries } from './output.js';
import { createAgentTaints, recordAgentTaints } from './data-flow.js';
import { createAgentHistory, recordAgentCall } from './agent-history.js';
import { createSessionState, recordCall, recordLabeledTaints } from './session-state.js';
import type { SessionState } from './session-state.js';
import { ENFORCEMENT_MODES } from './types.js';
import type { Decision, EnforcementMode, SafetyInput } from './types.js';

/**
 * `tollgate policy test`: YAML cases in the spirit of `opa test`. Each case is a session: a list
 * of calls, each with its expected decision. Example:
 *
 * ```yaml
 * cases:
 *   - name: reading a customer then emailing outside is blocked
 *     agent: support-bot
 *     calls:
 *       - { tool: read_customer, args: { id: 7 }, output: { email: jane@example.com }, expect: ALLOW }
 *       - { tool: send_email, args: { to: x@evil.com }, expect: BLOCK, rules: [no-exfiltration] }
 * ```
 */
export interface PolicyTestCall {
  readonly tool: string;
  readonly args: unknown;
  readonly output?: unknown;
  readonly expect: Decision;
  readonly rules?: readonly string[];
  readonly shadow?: readonly string[];
  readonly reasonContains?: string;
  /** Milliseconds after the case starts (`at: 5m` in YAML); defaults to one second per call. */
  readonly atMs?: number;
  readonly safety?: SafetyInput;
  /**
   * Session of this call (default: the case's session). Calls of one case under different sessions share the
   * agent's history, which is what `after.across: agent` rules read.
   */
  readonly session?: string;
}

export interface PolicyTestCase {
  readonly name: string;
  readonly agent: string;
  readonly user: string;
  readonly session: string;
  readonly enforcement: EnforcementMode;
  readonly approvedScope?: readonly string[];
  readonly calls: readonly PolicyTestCall[];
}

export interface PolicyTestFailure {
  readonly call: number;
  readonly message: string;
}

export interface PolicyTestResult {
  readonly name: string;
  readonly passed: boolean;
  readonly failures: readonly PolicyTestFailure[];
}

/** Epoch ms at which every case starts, so cases are deterministic (a Monday, 09:00 UTC). */
export const POLICY_TEST_START = Date.UTC(2026, 0, 5, 9, 0, 0);

/**
 * Reads a YAML (or JSON) case file. Throws an Error naming the bad case when the file is malformed.
 *
 * @example
 * const cases = parsePolicyTestCases(fs.readFileSync('cases.yaml', 'utf8'));
 */
export function parsePolicyTestCases(text: string): PolicyTestCase[] {
  const raw = parseYaml(text) as { cases?: unknown } | null;
  if (!raw || !Array.isArray(raw.cases)) throw new Error('a test file needs a top-level "cases" list');
  return raw.cases.map((item: unknown, index: number) => readCase(item, index));
}

function readCase(item: unknown, index: number): PolicyTestCase {
  const raw = (item ?? {}) as Record<string, unknown>;
  const name = typeof raw.name === 'string' ? raw.name : `case ${index + 1}`;
  const fail = (message: string): never => { throw new Error(`${name}: ${message}`); };
  const enforcement = (raw.enforcement ?? 'block') as EnforcementMode;
  if (!ENFORCEMENT_MODES.includes(enforcement)) fail(`enforcement must be one of ${ENFORCEMENT_MODES.join(', ')}`);
  const rawCalls = Array.isArray(raw.calls) ? raw.calls : raw.tool !== undefined ? [raw] : fail('needs "calls" or a "tool"');
  const calls = (rawCalls as unknown[]).map((call, callIndex) => readCall(call, callIndex, fail));
  return {
    name,
    agent: typeof raw.agent === 'string' ? raw.agent : 'test-agent',
    user: typeof raw.user === 'string' ? raw.user : 'test-user',
    session: typeof raw.session === 'string' ? raw.session : `test-session-${index + 1}`,
    enforcement,
    ...(Array.isArray(raw.approvedScope) ? { approvedScope: raw.approvedScope as string[] } : {}),
    calls,
  };
}

function readCall(item: unknown, index: number, fail: (message: string) => never): PolicyTestCall {
  const raw = (item ?? {}) as Record<string, unknown>;
  if (typeof raw.tool !== 'string') fail(`call ${index + 1} needs a "tool"`);
  if (raw.expect !== 'ALLOW' && raw.expect !== 'STEP_UP' && raw.expect !== 'BLOCK') fail(`call ${index + 1} needs expect: ALLOW | STEP_UP | BLOCK`);
  const atMs = raw.at === undefined ? undefined : typeof raw.at === 'number' ? raw.at : parseDuration(String(raw.at));
  if (atMs === null) fail(`call ${index + 1}: "at" must be a duration such as 5m`);
  if (raw.session !== undefined && (typeof raw.session !== 'string' || raw.session === '')) fail(`call ${index + 1}: "session" must be a non-empty string`);
  return {
    tool: raw.tool as string,
    args: raw.args ?? {},
    expect: raw.expect as Decision,
    ...(raw.output !== undefined ? { output: raw.output } : {}),
    ...(Array.isArray(raw.rules) ? { rules: raw.rules as string[] } : {}),
    ...(Array.isArray(raw.shadow) ? { shadow: raw.shadow as string[] } : {}),
    ...(typeof raw.reasonContains === 'string' ? { reasonContains: raw.reasonContains } : {}),
    ...(atMs !== undefined ? { atMs } : {}),
    ...(raw.safety !== undefined ? { safety: raw.safety as SafetyInput } : {}),
    ...(typeof raw.session === 'string' ? { session: raw.session } : {}),
  };
}

/**
 * Runs cases against a compiled policy. Each case starts with fresh sessions and a fresh agent history (a call's
 * `session` picks another session of the same agent); rate-limit counters are kept per case. A call's `output` is
 * recorded (data flow) when the call was not blocked.
 *
 * @example
 * const results = runPolicyTests(policy, cases);
 * const failed = results.filter((result) => !result.passed);
 */
export function runPolicyTests(policy: CompiledPolicy | null, cases: readonly PolicyTestCase[]): PolicyTestResult[] {
  return cases.map((testCase) => runCase(policy, testCase));
}

function runCase(policy: CompiledPolicy | null, testCase: PolicyTestCase): PolicyTestResult {
  const sessions = new Map<string, SessionState>();
  const agent = createAgentHistory();
  const counters = new Map<string, number>();
  const failures: PolicyTestFailure[] = [];
  testCase.calls.forEach((call, index) => {
    const now = POLICY_TEST_START + (call.atMs ?? index * 1000);
    const sessionId = call.session ?? testCase.session;
    let session = sessions.get(sessionId) ?? createSessionState();
    const result = evaluatePolicy(policy, {
      agentId: testCase.agent, userId: testCase.user, sessionId, toolName: call.tool,
      arguments: call.args, enforcement: testCase.enforcement, now,
      ...(testCase.approvedScope ? { approvedScope: testCase.approvedScope } : {}),
      ...(call.safety ? { safety: call.safety } : {}),
    }, { session, agent, rateCount: (key) => counters.get(key) ?? 0 });
    for (const key of result.rateLimitKeys) counters.set(key, (counters.get(key) ?? 0) + 1);
    session = recordCall(session, call.tool, now, result, { keep: policy?.sessionHistoryReads ?? null });
    recordAgentCall(agent, call.tool, now, result, { keep: policy?.agentHistoryReads ?? null });
    if (result.decision !== 'BLOCK' && call.output !== undefined) {
      const entries = outputTaintEntries(policy, call.tool, call.output);
      session = recordLabeledTaints(session, entries);
      if (entries.length > 0) {
        agent.taints ??= createAgentTaints();
        recordAgentTaints(agent.taints, entries.map((entry) => [entry.fingerprint, entry.labels] as const), entries.map((entry) => entry.words), now);
      }
    }
    sessions.set(sessionId, session);
    const problems = compare(call, result);
    for (const message of problems) failures.push({ call: index + 1, message });
  });
  return { name: testCase.name, passed: failures.length === 0, failures };
}

function compare(
  call: PolicyTestCall,
  result: { decision: Decision; reason: string; matchedRules: readonly string[]; shadow: ReadonlyArray<{ ruleId: string }> },
): string[] {
  const problems: string[] = [];
  if (result.decision !== call.expect) problems.push(`${call.tool}: expected ${call.expect}, got ${result.decision} (${result.reason})`);
  for (const rule of call.rules ?? []) {
    if (!result.matchedRules.includes(rule)) problems.push(`${call.tool}: expected rule ${rule} to match; matched [${result.matchedRules.join(', ')}]`);
  }
  for (const rule of call.shadow ?? []) {
    if (!result.shadow.some((hit) => hit.ruleId === rule)) problems.push(`${call.tool}: expected shadow rule ${rule} to fire`);
  }
  if (call.reasonContains !== undefined && !result.reason.includes(call.reasonContains)) {
    problems.push(`${call.tool}: reason "${result.reason}" does not contain "${call.reasonContains}"`);
  }
  return problems;
}
