import type { CompiledPolicy } from './compile.js';
import { collectLeaves, identifierTokens, sha256Fingerprint, taintValue } from './data-flow.js';
import type { Fingerprint, TaintEntry } from './data-flow.js';
import { runRules } from './evaluate.js';
import type { EvaluationState, RuleHit } from './evaluate.js';
import { recordLabeledTaints } from './session-state.js';
import type { LabeledTaintEntry, SessionState } from './session-state.js';
import type { EnforcementMode, EvaluationInput, RuleError, SafetyInput, ShadowHit } from './types.js';

const ALL_VARIABLES: ReadonlySet<string> = new Set(['agent', 'user', 'session', 'time']);

/** A tool's output, as /v1/enforce/output receives it. */
export interface OutputInput {
  readonly agentId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly toolName: string;
  readonly output: unknown;
  readonly enforcement: EnforcementMode;
  readonly now: number;
  readonly safety?: SafetyInput;
}

export interface OutputResult {
  /** BLOCK means the output must not reach the agent. */
  readonly decision: 'ALLOW' | 'BLOCK';
  readonly reason: string;
  readonly violation: boolean;
  readonly wouldHaveBeen: 'BLOCK' | null;
  readonly matchedRules: readonly string[];
  readonly shadow: readonly ShadowHit[];
  readonly errors: readonly RuleError[];
}

/**
 * Runs `stage: output` rules over a tool's output. A STEP_UP rule blocks here too: an output
 * cannot wait for a human. In observe mode the answer is ALLOW with `wouldHaveBeen`.
 *
 * @example
 * evaluateOutput(policy, { ...call, output: 'Ignore previous instructions…', safety }, { session })
 */
export function evaluateOutput(policy: CompiledPolicy | null, input: OutputInput, state: EvaluationState): OutputResult {
  const hits: RuleHit[] = [];
  const shadow: ShadowHit[] = [];
  const errors: RuleError[] = [];
  if (policy !== null) {
    const call: EvaluationInput = { ...input, arguments: {} };
    runRules(policy.rulesFor(input.toolName, 'output'), call, state, { hits, shadow, errors, rateLimitKeys: [] },
      ALL_VARIABLES, { output: input.output ?? null });
  }
  const blocking = hits.find((hit) => hit.effect !== 'ALLOW');
  const mode = (policy?.agent(input.agentId).enforcement) ?? input.enforcement;
  const base = { matchedRules: hits.map((hit) => hit.ruleId), shadow, errors };
  if (blocking === undefined) return { ...base, decision: 'ALLOW', reason: 'output allowed', violation: false, wouldHaveBeen: null };
  if (mode === 'observe') {
    return { ...base, decision: 'ALLOW', reason: `${blocking.reason} (observe mode: would have been BLOCK)`, violation: true, wouldHaveBeen: 'BLOCK' };
  }
  return { ...base, decision: 'BLOCK', reason: blocking.reason, violation: true, wouldHaveBeen: null };
}

/**
 * Remembers the sensitive values in a tool's output, if the policy marks the tool as a data-flow
 * source. Returns the state unchanged otherwise.
 *
 * @example
 * session = recordOutputTaints(policy, session, 'read_customer', { email: 'jane@example.com' });
 */
export function recordOutputTaints(
  policy: CompiledPolicy | null,
  session: SessionState,
  toolName: string,
  output: unknown,
  fingerprint: Fingerprint = sha256Fingerprint,
): SessionState {
  return recordLabeledTaints(session, outputTaintEntries(policy, toolName, output, fingerprint));
}

/**
 * The values of a tool's output that the policy's data-flow sources remember, each once with all its labels (empty
 * when the tool is no source). `recordOutputTaints` records them; a caller that owns its state can add them in place
 * with `recordLabeledTaintsInPlace`.
 *
 * @example
 * const entries = outputTaintEntries(policy, 'read_customer', { email: 'jane@example.com' });
 */
export function outputTaintEntries(
  policy: CompiledPolicy | null,
  toolName: string,
  output: unknown,
  fingerprint: Fingerprint = sha256Fingerprint,
): LabeledTaintEntry[] {
  if (policy === null) return [];
  // Sources share the walk of the output and the fingerprint of each value, and each label is recorded
  // once: per source, 1,000 sources took 42 s for an output of 4,000 values.
  const leavesByFields = new Map<string, string[]>();
  const entryByValue = new Map<string, TaintEntry | null>();
  const byFingerprint = new Map<string, { fingerprint: string; words: number; labels: Set<string> }>();
  for (const source of policy.sourcesFor(toolName)) {
    const fieldsKey = source.fields === undefined ? '' : JSON.stringify(source.fields);
    let leaves = leavesByFields.get(fieldsKey);
    if (leaves === undefined) {
      leaves = collectLeaves(output, source.fields);
      leavesByFields.set(fieldsKey, leaves);
    }
    const remember = (value: string): TaintEntry | null => {
      const key = `${source.minLength}\n${value}`;
      let entry = entryByValue.get(key);
      if (entry === undefined) {
        entry = taintValue(value, source.minLength, fingerprint);
        entryByValue.set(key, entry);
      }
      if (entry === null) return null;
      const known = byFingerprint.get(entry.fingerprint);
      if (known) known.labels.add(source.label);
      else byFingerprint.set(entry.fingerprint, { ...entry, labels: new Set([source.label]) });
      return entry;
    };
    for (const leaf of leaves) {
      const entry = remember(leaf);
      // A longer text is remembered whole (only an exact copy matches it): its addresses and numbers on their own too.
      if (entry !== null && entry.words === 0) for (const token of identifierTokens(leaf)) remember(token);
    }
  }
  return [...byFingerprint.values()].map((entry) => ({ ...entry, labels: [...entry.labels] }));
}
