import type { CompiledPolicy, CompiledRule } from './compile.js';
import { scanForAgentTaints, scanForTaints, sha256Fingerprint } from './data-flow.js';
import type { AgentFlowScan, AgentTaints, Fingerprint, FlowScan } from './data-flow.js';
import { isGlob, matchesGlob } from './glob.js';
import { applyMode, strongest } from './modes.js';
import { agentViolationsSince } from './agent-history.js';
import type { SessionState } from './session-state.js';
import type {
  Decision, EvaluationInput, EvaluationResult, RuleError, Severity, ShadowHit,
} from './types.js';

/** What evaluation reads besides the call itself; it is never modified. */
export interface EvaluationState {
  readonly session: SessionState;
  /**
   * The agent's history over all its sessions, read by sequence conditions with `after.across: agent` and by
   * `progressive.across: agent` (`CompiledPolicy.agentHistoryWindowMs > 0`), and its `taints` by data-flow conditions
   * with `across: agent` (`CompiledPolicy.agentFlowWindowMs > 0`). Absent: those conditions see no earlier call or
   * value and the escalation counts no earlier violation.
   */
  readonly agent?: { readonly lastCallAt: ReadonlyMap<string, number>; readonly violations: readonly number[]; readonly taints?: AgentTaints | undefined };
  /** Calls already counted under a rate-limit key (see `rateLimitKey`); absent counts as 0. */
  readonly rateCount?: (key: string) => number;
  /** Fingerprint function for data-flow matching; must be the one used when recording taints. */
  readonly fingerprint?: Fingerprint;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };
const EMPTY: readonly never[] = [];

/** An enforcing rule whose conditions held. */
export interface RuleHit {
  readonly ruleId: string;
  readonly effect: Decision;
  readonly reason: string;
  readonly severity: Severity;
}

/**
 * Decides one tool call: scope, then every rule that applies to the tool (deny overrides:
 * BLOCK > STEP_UP > ALLOW), then the enforcement mode. Pure: the session state and rate counts
 * are inputs; the caller records the outcome (`recordCall`, `rateLimitKeys`).
 *
 * With no policy and no approvedScope the answer is BLOCK in every mode, saying so.
 *
 * @example
 * const result = evaluatePolicy(policy, { agentId: 'bot', userId: 'u', sessionId: 's', toolName: 'send_email',
 *   arguments: { to: 'x@evil.com' }, enforcement: 'block', now: Date.now() }, { session: createSessionState() });
 * result.decision // 'BLOCK' | 'STEP_UP' | 'ALLOW'
 */
export function evaluatePolicy(
  policy: CompiledPolicy | null,
  input: EvaluationInput,
  state: EvaluationState,
): EvaluationResult {
  const agent = policy?.agent(input.agentId);
  const mode = agent?.enforcement ?? input.enforcement;
  const requestScope = input.approvedScope;
  if (!agent?.scope && requestScope === undefined) {
    const reason = policy === null
      ? 'no policy is loaded and the call declares no approvedScope: denied by default'
      : `agent "${input.agentId}" has no approvedScope in policy "${policy.document.name}" and the call declares none: denied by default`;
    return hardBlock(reason, mode);
  }
  const hits: RuleHit[] = [];
  if ((agent?.scope && !agent.scope(input.toolName)) || (requestScope && !inScope(requestScope, input.toolName))) {
    hits.push({
      ruleId: 'approved-scope', effect: 'BLOCK', severity: 'high',
      reason: `tool "${input.toolName}" is outside the approved scope of agent "${input.agentId}"`,
    });
  }
  const shadow: ShadowHit[] = [];
  const errors: RuleError[] = [];
  const rateLimitKeys: string[] = [];
  const plan = policy?.plan(input.toolName);
  if (plan !== undefined) runRules(plan.callRules, input, state, { hits, shadow, errors, rateLimitKeys }, plan.uses);
  const verdict = combine(hits);
  const progressive = policy?.document.progressive;
  // Counted only where it decides something: a violation in progressive mode (an agent's count walks its list).
  const previousViolations = mode !== 'progressive' || !verdict.violation ? 0
    : progressive?.across === 'agent' ? (state.agent ? agentViolationsSince(state.agent, input.now - (progressive.withinMs ?? 0)) : 0)
      : state.session.violations;
  const applied = applyMode(mode, verdict.decision, verdict.violation, previousViolations, progressive?.blockAfter, policy?.progressiveCounted);
  return {
    decision: applied.decision,
    reason: verdict.reason + applied.note,
    mode,
    verdict: verdict.decision,
    wouldHaveBeen: mode === 'observe' ? verdict.decision : null,
    violation: verdict.violation,
    severity: verdict.severity,
    matchedRules: hits.map((hit) => hit.ruleId),
    shadow,
    errors,
    captureOutput: plan?.captureOutput ?? false,
    rateLimitKeys,
  };
}

/** Where runRules puts what it found. */
export interface RuleCollector {
  readonly hits: RuleHit[];
  readonly shadow: ShadowHit[];
  readonly errors: RuleError[];
  readonly rateLimitKeys: string[];
}

/** Runs the rules of one stage. `extra` adds variables (e.g. `output`) to the CEL context. */
export function runRules(
  rules: readonly CompiledRule[],
  input: EvaluationInput,
  state: EvaluationState,
  out: RuleCollector,
  uses: ReadonlySet<string>,
  extra?: Readonly<Record<string, unknown>>,
): void {
  let context: Record<string, unknown> | undefined;
  let flow: FlowScan | undefined;
  let agentFlow: AgentFlowScan | undefined;
  for (const compiled of rules) {
    const { rule } = compiled;
    if (!compiled.matchesAgent(input.agentId) || !compiled.matchesUser(input.userId)) continue;
    if (compiled.matchesAfter && !happenedBefore(compiled, rule.after?.across === 'agent' ? state.agent?.lastCallAt ?? NO_CALLS : state.session.lastCallAt, input.now)) continue;
    let failure: string | null = null;
    if (compiled.condition) {
      context ??= buildContext(input, state.session, uses, extra);
      const outcome = compiled.condition(context);
      if (outcome instanceof Error) failure = `condition failed at run time: ${outcome.message}`;
      else if (!outcome) continue;
    }
    if (rule.dataFlow && failure === null) {
      const labels = rule.dataFlow.labels;
      let flowed: boolean;
      let incomplete: boolean;
      let forgotten: boolean;
      if (rule.dataFlow.across === 'agent') {
        agentFlow ??= scanForAgentTaints(input.arguments, state.agent?.taints ?? NO_TAINTS, state.fingerprint ?? sha256Fingerprint);
        const since = input.now - (rule.dataFlow.withinMs ?? 0);
        const found = agentFlow.labels;
        flowed = labels ? labels.some((label) => (found.get(label) ?? Number.NEGATIVE_INFINITY) >= since) : [...found.values()].some((at) => at >= since);
        incomplete = agentFlow.incomplete;
        // Values returned within the window were dropped for space (an output flooding the memory pushes earlier
        // values out): a copy of them would not be found.
        forgotten = !flowed && (state.agent?.taints?.droppedNewestAt ?? Number.NEGATIVE_INFINITY) >= since;
      } else {
        flow ??= scanForTaints(input.arguments, state.session.taints, state.session.windowSizes, state.fingerprint ?? sha256Fingerprint);
        const found = flow.labels;
        flowed = labels ? labels.some((label) => found.has(label)) : found.size > 0;
        incomplete = flow.incomplete;
        forgotten = !flowed && state.session.taintsDropped === true;
      }
      if (incomplete) failure = 'arguments too large to scan for sensitive data';
      else if (forgotten) failure = 'more sensitive values were returned than are remembered (the oldest were dropped), so this call cannot be checked';
      else if (!flowed) continue;
    }
    if (rule.rateLimit && failure === null) {
      const key = rateLimitKey(rule.id, rule.rateLimit, input);
      out.rateLimitKeys.push(key);
      if ((state.rateCount?.(key) ?? 0) + 1 <= rule.rateLimit.count) continue;
    }
    if (failure !== null) {
      out.errors.push({ ruleId: rule.id, message: failure });
      // Fail closed: an ALLOW rule whose condition failed simply does not apply.
      if (rule.effect === 'ALLOW') continue;
    }
    const reason = failure === null ? rule.reason : `${rule.reason} (${failure})`;
    if (rule.mode === 'shadow') out.shadow.push({ ruleId: rule.id, effect: rule.effect, reason });
    else out.hits.push({ ruleId: rule.id, effect: rule.effect, reason, severity: rule.severity });
  }
}

/**
 * Counter key of a rate limit: rule, who it counts for, and the fixed window the call falls in
 * (window length and number, so the window's end can be computed from the key alone).
 *
 * @example
 * rateLimitKey('emails', { count: 10, windowMs: 60000, per: 'agent' }, input) // 'emails|agent:bot|60000:28512345'
 */
export function rateLimitKey(
  ruleId: string,
  limit: { readonly windowMs: number; readonly per: 'agent' | 'session' | 'user' },
  input: Pick<EvaluationInput, 'agentId' | 'userId' | 'sessionId' | 'now'>,
): string {
  const subject = limit.per === 'agent' ? input.agentId : limit.per === 'user' ? input.userId : input.sessionId;
  return `${ruleId}|${limit.per}:${subject}|${limit.windowMs}:${Math.floor(input.now / limit.windowMs)}`;
}

const NO_CALLS: ReadonlyMap<string, number> = new Map();
const NO_TAINTS: AgentTaints = { entries: new Map(), windowSizes: new Set() };

function happenedBefore(compiled: CompiledRule, lastCallAt: ReadonlyMap<string, number>, now: number): boolean {
  const within = compiled.rule.after?.withinMs;
  for (const [tool, at] of lastCallAt) {
    if (compiled.matchesAfter?.(tool) && (within === undefined || now - at <= within)) return true;
  }
  return false;
}

/** Builds only the CEL variables some condition reads: a Date or a tool list costs time. */
function buildContext(
  input: EvaluationInput,
  session: SessionState,
  uses: ReadonlySet<string>,
  extra: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const args = input.arguments;
  const context: Record<string, unknown> = {
    tool: input.toolName,
    args: typeof args === 'object' && args !== null && !Array.isArray(args) ? args : { input: args ?? null },
  };
  if (uses.has('agent')) context.agent = { id: input.agentId };
  if (uses.has('user')) context.user = { id: input.userId };
  if (uses.has('session')) {
    context.session = { id: input.sessionId, callCount: session.callCount, violations: session.violations, tools: [...session.lastCallAt.keys()] };
  }
  if (uses.has('time')) {
    const date = new Date(input.now);
    context.time = { now: date, hour: date.getUTCHours(), weekday: date.getUTCDay(), epochMs: input.now };
  }
  if (input.safety) context.safety = input.safety;
  if (extra) Object.assign(context, extra);
  return context;
}

function combine(hits: readonly RuleHit[]): { decision: Decision; reason: string; violation: boolean; severity: Severity | null } {
  let winner: RuleHit | undefined;
  for (const hit of hits) {
    if (winner === undefined) { winner = hit; continue; }
    const stronger = strongest(hit.effect, winner.effect) !== winner.effect
      || (hit.effect === winner.effect && SEVERITY_RANK[hit.severity] > SEVERITY_RANK[winner.severity]);
    if (stronger) winner = hit;
  }
  if (winner === undefined) return { decision: 'ALLOW', reason: 'within approved scope; no rule objected', violation: false, severity: null };
  return { decision: winner.effect, reason: winner.reason, violation: winner.effect === 'BLOCK', severity: winner.severity };
}

function inScope(patterns: readonly string[], toolName: string): boolean {
  for (const pattern of patterns) {
    if (pattern === toolName || pattern === '*') return true;
    if (isGlob(pattern) && matchesGlob(pattern, toolName)) return true;
  }
  return false;
}

function hardBlock(reason: string, mode: EvaluationResult['mode']): EvaluationResult {
  return {
    decision: 'BLOCK', reason, mode, verdict: 'BLOCK', wouldHaveBeen: mode === 'observe' ? 'BLOCK' : null,
    violation: true, severity: 'high', matchedRules: EMPTY, shadow: EMPTY, errors: EMPTY,
    captureOutput: false, rateLimitKeys: EMPTY,
  };
}

/**
 * Epoch ms at which the window of a rate-limit counter key ends.
 *
 * @example
 * rateLimitKeyExpiry('emails|agent:bot|60000:5') // 360000
 */
export function rateLimitKeyExpiry(key: string): number | null {
  const match = /\|(\d+):(\d+)$/.exec(key);
  if (!match) return null;
  return (Number(match[2]) + 1) * Number(match[1]);
}
