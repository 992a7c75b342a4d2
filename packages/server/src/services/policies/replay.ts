import { setImmediate as nextTurn } from 'node:timers/promises';
import { MAX_AGENT_VIOLATIONS, createAgentHistory, createAgentTaints, evaluatePolicy, recordAgentCall, recordAgentTaints, recordAgentViolation, recordCall, recordTaints, createSessionState } from '@tollgate/core';
import type { AgentHistory, CompiledPolicy, Decision, EnforcementMode, Fingerprint, SafetyInput, SessionState } from '@tollgate/core';
import { outputTaintsOf } from '../../store/repositories/decisions.js';
import type { DecisionRepository, OutputRecord, StoredDecision } from '../../store/repositories/decisions.js';

/** Most recorded decisions one replay looks at. */
export const DEFAULT_REPLAY_LIMIT = 10_000;
export const MAX_REPLAY_LIMIT = 100_000;
export const DEFAULT_REPLAY_EXAMPLES = 20;
const PAGE = 1_000;
/** Time slice of one query seeding agent histories (see agentHistoriesBefore). */
const SEED_SLICE_MS = 86_400_000;
/** Most violations read to seed agent-wide progressive escalation (the most recent; at most 1,000 count per agent). */
const MAX_SEEDED_VIOLATIONS = 100_000;
/**
 * Decisions evaluated between two turns of the event loop. A replay of 100,000 decisions takes seconds of CPU
 * (and SQLite reads are synchronous): run in one go it stalled every other request of every tenant.
 */
const EVALUATIONS_PER_TURN = 500;
/**
 * Estimated CEL steps (CompiledPolicy.cost) between two turns, and in one replay. A draft at the compile budget
 * runs milliseconds per evaluation: 500 of them in a row stalled the event loop for seconds, and 100,000 of them
 * kept a core busy for minutes per request.
 */
const STEPS_PER_TURN = 1_000_000;
export const MAX_REPLAY_STEPS = 1_000_000_000;
/** Work of one evaluation besides the conditions (scope, rule lookup, session state), in the same units. */
const STEPS_PER_EVALUATION = 100;

/**
 * How a replay of `policy` is paced: evaluations between two turns of the event loop, and the most decisions
 * it evaluates (fewer than `limit` for a costly draft; the report then says `truncated`).
 *
 * @example
 * replayPace(draft, 100_000) // { perTurn: 500, maxDecisions: 100_000 } for an ordinary policy
 */
export function replayPace(policy: CompiledPolicy | null, limit: number): { perTurn: number; maxDecisions: number } {
  const steps = STEPS_PER_EVALUATION + (policy?.cost ?? 0);
  return {
    perTurn: Math.max(1, Math.min(EVALUATIONS_PER_TURN, Math.floor(STEPS_PER_TURN / steps))),
    maxDecisions: Math.max(1, Math.min(limit, Math.floor(MAX_REPLAY_STEPS / steps))),
  };
}

export interface ReplayOptions {
  from?: number | undefined;
  to?: number | undefined;
  agentId?: string | undefined;
  limit?: number | undefined;
  examples?: number | undefined;
  fingerprint?: Fingerprint | undefined;
}

export interface ReplayChange {
  decisionId: string;
  ts: string;
  agentId: string;
  sessionId: string;
  toolName: string;
  /**
   * `decision`: the policy's decision when the call was made, the one a draft is compared with (before the
   * enforcement mode and approvals: a call let through by an approved hold was recorded STEP_UP); `answered`: what the
   * caller got (ALLOW after an approval, ALLOW in observe mode, BLOCK for a reused token); `reason`: the answer's.
   */
  recorded: { decision: string; answered: string; reason: string; matchedRules: string[] };
  replayed: { decision: Decision; reason: string; matchedRules: string[] };
}

export interface ReplayReport {
  scanned: number;
  changed: number;
  unchanged: number;
  /** Decisions taken by a kill switch: policy-independent, not compared. */
  skipped: number;
  /** True when more decisions matched than `limit` (or than a costly draft may evaluate: see replayPace). */
  truncated: boolean;
  /** e.g. `{ "ALLOW→BLOCK": 12 }`. */
  transitions: Record<string, number>;
  recordedCounts: Record<string, number>;
  replayedCounts: Record<string, number>;
  /** Rules of the draft that fired, with how often. */
  ruleHits: Record<string, number>;
  examples: ReplayChange[];
}

interface RecordedContext {
  session?: { callCount?: number; violations?: number; lastCallAt?: Array<[string, number]> };
  safety?: SafetyInput;
  killSwitch?: string;
  policyDecision?: string;
}

/**
 * Re-evaluates recorded decisions against a (draft) policy and reports what would change. Each session's
 * state is rebuilt as the calls replay, seeded from the first replayed decision's recorded context; tool
 * outputs' data-flow fingerprints are re-applied from what was recorded under the policy of the time.
 * Agent-wide histories (`after.across: agent`) are rebuilt the same way, seeded from the calls recorded in the
 * draft's longest agent-wide window before `from`. Rate-limit counters start at zero at `from`.
 *
 * @example
 * const report = await replayDecisions(store.decisions, 'acme', draft, { from: Date.now() - 86_400_000 });
 */
export async function replayDecisions(
  repository: Pick<DecisionRepository, 'list' | 'outputsForSessions' | 'lastCallsBefore' | 'lastAgentCallsBefore' | 'agentViolationsBefore' | 'agentOutputs'>,
  tenantId: string,
  policy: CompiledPolicy | null,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const { perTurn, maxDecisions: limit } = replayPace(policy, Math.min(options.limit ?? DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT));
  const decisions = await loadDecisions(repository, tenantId, options, limit + 1);
  const truncated = decisions.length > limit;
  if (truncated) decisions.length = limit;
  const sessionIds = [...new Set(decisions.map((d) => d.sessionId))];
  // Outputs after the last replayed call cannot change a replayed decision.
  const lastTs = decisions.reduce((max, d) => Math.max(max, d.ts), Number.NEGATIVE_INFINITY);
  const outputs = groupOutputs(await repository.outputsForSessions(tenantId, sessionIds, decisions.length === 0 ? undefined : lastTs));
  const history = await lastCallsBefore(repository, tenantId, sessionIds, options.from);
  const agents = await agentHistoriesBefore(repository, tenantId, [...new Set(decisions.map((d) => d.agentId))], options.from, policy);
  const agentOutputs = await agentOutputsFor(repository, tenantId, decisions, options.from, policy);
  const report = emptyReport(truncated);
  const sessions = new Map<string, SessionState>();
  const counters = new Map<string, number>();
  for (const recorded of decisions) {
    if (report.scanned > 0 && report.scanned % perTurn === 0) await nextTurn();
    const context = (recorded.context ?? {}) as RecordedContext;
    let session = sessions.get(recorded.sessionId) ?? seedSession(context, history.get(recorded.sessionId));
    session = applyOutputs(session, outputs.get(recorded.sessionId), recorded.ts);
    report.scanned += 1;
    if (context.killSwitch) {
      report.skipped += 1;
      recordAgentViolation(historyOf(agents, recorded.agentId), recorded.ts); // as the live decision counted it
      sessions.set(recorded.sessionId, recordCall(session, recorded.toolName, recorded.ts, { decision: 'BLOCK', violation: true }));
      continue;
    }
    const agent = historyOf(agents, recorded.agentId);
    applyAgentOutputs(agent, agentOutputs.get(recorded.agentId), recorded.ts);
    const result = evaluatePolicy(policy, {
      agentId: recorded.agentId, userId: recorded.userId, sessionId: recorded.sessionId, toolName: recorded.toolName,
      arguments: recorded.arguments ?? {}, enforcement: recorded.requestedMode as EnforcementMode, now: recorded.ts,
      ...(recorded.approvedScope ? { approvedScope: recorded.approvedScope } : {}), ...(context.safety ? { safety: context.safety } : {}),
    }, { session, agent, rateCount: (key) => counters.get(key) ?? 0, ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}) });
    for (const key of result.rateLimitKeys) counters.set(key, (counters.get(key) ?? 0) + 1);
    for (const rule of result.matchedRules) report.ruleHits[rule] = (report.ruleHits[rule] ?? 0) + 1;
    sessions.set(recorded.sessionId, recordCall(session, recorded.toolName, recorded.ts, result, { keep: policy?.sessionHistoryReads ?? null }));
    recordAgentCall(agent, recorded.toolName, recorded.ts, result, { keep: policy?.agentHistoryReads ?? null });
    compare(report, recorded, context.policyDecision ?? recorded.decision, result, options.examples ?? DEFAULT_REPLAY_EXAMPLES);
  }
  return report;
}

async function loadDecisions(repository: Pick<DecisionRepository, 'list'>, tenantId: string, options: ReplayOptions, max: number): Promise<StoredDecision[]> {
  const all: StoredDecision[] = [];
  let afterSeq: number | undefined;
  while (all.length < max) {
    const page = await repository.list(tenantId, { from: options.from, to: options.to, agentId: options.agentId, afterSeq, limit: Math.min(PAGE, max - all.length) });
    all.push(...page);
    if (page.length === 0 || page.length < PAGE) break;
    afterSeq = page[page.length - 1]?.seq;
    await nextTurn();
  }
  return all;
}

/**
 * Per session, the last-call times recorded before `from` (replay starts there). Without `from` the replay
 * starts at each session's beginning and needs none.
 */
async function lastCallsBefore(
  repository: Pick<DecisionRepository, 'lastCallsBefore'>, tenantId: string, sessionIds: readonly string[], from: number | undefined,
): Promise<Map<string, Map<string, number>>> {
  const history = new Map<string, Map<string, number>>();
  if (from === undefined || sessionIds.length === 0) return history;
  for (const row of await repository.lastCallsBefore(tenantId, sessionIds, from)) {
    const tools = history.get(row.sessionId) ?? new Map<string, number>();
    tools.set(row.toolName, row.ts);
    history.set(row.sessionId, tools);
  }
  return history;
}

/**
 * Per agent, its calls recorded in the longest agent-wide sequence window of the draft before `from` (no rule reads
 * further back), and with agent-wide escalation its violations in that window. None without `from` or without
 * agent-wide conditions.
 */
async function agentHistoriesBefore(
  repository: Pick<DecisionRepository, 'lastAgentCallsBefore' | 'agentViolationsBefore'>, tenantId: string, agentIds: readonly string[], from: number | undefined,
  policy: CompiledPolicy | null,
): Promise<Map<string, AgentHistory>> {
  const histories = new Map<string, AgentHistory>();
  if (from === undefined || (policy?.agentHistoryWindowMs ?? 0) <= 0 || agentIds.length === 0) return histories;
  const calls = await readBackByDay(from, policy?.agentSequenceWindowMs ?? 0, Number.POSITIVE_INFINITY,
    (since, end) => repository.lastAgentCallsBefore(tenantId, agentIds, since, end));
  calls.sort((a, b) => a.ts - b.ts);
  for (const row of calls) recordAgentCall(historyOf(histories, row.agentId), row.toolName, row.ts, { decision: 'ALLOW' }, { keep: policy?.agentHistoryReads ?? null });
  const progressive = policy?.document.progressive;
  if (progressive?.across === 'agent' && progressive.withinMs !== undefined) {
    // The escalation counts at most MAX_AGENT_VIOLATIONS per agent; the most recent that many cover every agent.
    const limit = Math.min(MAX_AGENT_VIOLATIONS * agentIds.length, MAX_SEEDED_VIOLATIONS);
    const violations = await readBackByDay(from, progressive.withinMs, limit,
      (since, end, remaining) => repository.agentViolationsBefore(tenantId, agentIds, since, end, remaining));
    violations.sort((a, b) => a.ts - b.ts);
    for (const row of violations) recordAgentViolation(historyOf(histories, row.agentId), row.ts);
  }
  return histories;
}

/** Most recorded outputs re-applied per agent for data-flow rules with `across: agent` (the most recent). */
export const MAX_REPLAYED_AGENT_OUTPUTS = 20_000;
/** Most recorded outputs one replay holds for them over all its agents (its memory stays bounded). */
export const MAX_REPLAYED_OUTPUTS_TOTAL = 200_000;

/**
 * With data-flow rules of `across: agent` in the draft: per agent, its recorded outputs (any session) from the longest
 * such window before the first replayed call (or `from`) up to the last replayed call, oldest first.
 */
async function agentOutputsFor(
  repository: Pick<DecisionRepository, 'agentOutputs'>, tenantId: string, decisions: readonly StoredDecision[], from: number | undefined, policy: CompiledPolicy | null,
): Promise<Map<string, OutputRecord[]>> {
  const byAgent = new Map<string, OutputRecord[]>();
  const windowMs = policy?.agentFlowWindowMs ?? 0;
  const first = decisions[0];
  const last = decisions[decisions.length - 1];
  if (windowMs <= 0 || first === undefined || last === undefined) return byAgent;
  const since = Math.min(from ?? first.ts, first.ts) - windowMs;
  let budget = MAX_REPLAYED_OUTPUTS_TOTAL;
  for (const agentId of new Set(decisions.map((d) => d.agentId))) {
    const rows: OutputRecord[] = [];
    const max = Math.min(MAX_REPLAYED_AGENT_OUTPUTS, budget);
    let before: { ts: number; seq: number } | undefined = { ts: last.ts, seq: Number.MAX_SAFE_INTEGER };
    while (before !== undefined && rows.length < max) {
      const page = await repository.agentOutputs(tenantId, agentId, { since, before, limit: Math.min(PAGE, max - rows.length) });
      rows.push(...page);
      const tail = page[page.length - 1];
      before = tail === undefined || page.length < PAGE ? undefined : { ts: tail.ts, seq: tail.seq };
      await nextTurn();
    }
    budget -= rows.length;
    byAgent.set(agentId, rows.reverse());
  }
  return byAgent;
}

/** Applies (and removes) the agent's recorded outputs that happened at or before `ts` to its values. */
function applyAgentOutputs(agent: AgentHistory, outputs: OutputRecord[] | undefined, ts: number): void {
  while (outputs && outputs.length > 0 && (outputs[0]?.ts ?? Infinity) <= ts) {
    const output = outputs.shift()!;
    const { added, windowSizes } = outputTaintsOf(output);
    agent.taints ??= createAgentTaints();
    recordAgentTaints(agent.taints, added, windowSizes, output.ts);
  }
}

/**
 * The rows `read` returns for [`from` - `windowMs`, `from`), a day at a time from `from` backwards, yielding between
 * reads, until `limit` rows. The window may reach 30 days back, and on SQLite one query over all of it would hold the
 * event loop (every tenant's requests) for as long as it reads.
 */
async function readBackByDay<T>(from: number, windowMs: number, limit: number, read: (since: number, end: number, remaining: number) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let end = from; end > from - windowMs && rows.length < limit; end -= SEED_SLICE_MS) {
    rows.push(...(await read(Math.max(from - windowMs, end - SEED_SLICE_MS), end, limit - rows.length)));
    await nextTurn();
  }
  return rows;
}

/** The agent's history in `histories`, created empty on first use. */
function historyOf(histories: Map<string, AgentHistory>, agentId: string): AgentHistory {
  let history = histories.get(agentId);
  if (history === undefined) histories.set(agentId, (history = createAgentHistory()));
  return history;
}

function seedSession(context: RecordedContext, lastCalls: Map<string, number> | undefined): SessionState {
  const seeded = createSessionState();
  const recorded = context.session;
  const legacy = (recorded?.lastCallAt ?? []).filter((entry) => Array.isArray(entry) && typeof entry[0] === 'string');
  return {
    ...seeded,
    callCount: recorded?.callCount ?? 0,
    violations: recorded?.violations ?? 0,
    lastCallAt: lastCalls ?? new Map(legacy),
  };
}

function groupOutputs(outputs: readonly OutputRecord[]): Map<string, OutputRecord[]> {
  const grouped = new Map<string, OutputRecord[]>();
  for (const output of outputs) {
    const list = grouped.get(output.sessionId) ?? [];
    list.push(output);
    grouped.set(output.sessionId, list);
  }
  return grouped;
}

/** Applies (and removes) the recorded outputs of a session that happened before `ts`. */
function applyOutputs(session: SessionState, outputs: OutputRecord[] | undefined, ts: number): SessionState {
  let state = session;
  while (outputs && outputs.length > 0 && (outputs[0]?.ts ?? Infinity) <= ts) {
    const { added, windowSizes } = outputTaintsOf(outputs.shift()!);
    for (const [fingerprint, labels] of added) {
      for (const label of labels) state = recordTaints(state, [{ fingerprint, words: 0 }], label);
    }
    if (windowSizes.length > 0) state = { ...state, windowSizes: new Set([...state.windowSizes, ...windowSizes]) };
  }
  return state;
}

function emptyReport(truncated: boolean): ReplayReport {
  return { scanned: 0, changed: 0, unchanged: 0, skipped: 0, truncated, transitions: {}, recordedCounts: {}, replayedCounts: {}, ruleHits: {}, examples: [] };
}

function compare(
  report: ReplayReport, recorded: StoredDecision, recordedDecision: string,
  result: { decision: Decision; reason: string; matchedRules: readonly string[] }, maxExamples: number,
): void {
  report.recordedCounts[recordedDecision] = (report.recordedCounts[recordedDecision] ?? 0) + 1;
  report.replayedCounts[result.decision] = (report.replayedCounts[result.decision] ?? 0) + 1;
  if (recordedDecision === result.decision) {
    report.unchanged += 1;
    return;
  }
  report.changed += 1;
  const transition = `${recordedDecision}→${result.decision}`;
  report.transitions[transition] = (report.transitions[transition] ?? 0) + 1;
  if (report.examples.length < maxExamples) {
    report.examples.push({
      decisionId: recorded.id, ts: new Date(recorded.ts).toISOString(), agentId: recorded.agentId, sessionId: recorded.sessionId,
      toolName: recorded.toolName, recorded: { decision: recordedDecision, answered: recorded.decision, reason: recorded.reason, matchedRules: recorded.matchedRules },
      replayed: { decision: result.decision, reason: result.reason, matchedRules: [...result.matchedRules] },
    });
  }
}
