import { TollgateError, actionHash, evaluatePolicy, recordCallInPlace, redactSecretsDeep } from '@tollgate/core';
import type { AgentHistory, CompiledPolicy, EvaluationInput, EvaluationResult, Fingerprint, SafetyInput, SessionState } from '@tollgate/core';
import type { DecisionRecord, ViolationRecord } from '../../store/repositories/decisions.js';
import type { HoldRecord } from '../../store/repositories/holds.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { HoldService } from '../holds/hold-service.js';
import type { KillSwitchService } from '../kill-switch/kill-switch-service.js';
import type { PolicyService } from '../policies/policy-service.js';
import type { DecisionWriter } from './decision-writer.js';
import type { RateCounters } from './rate-counters.js';
import type { AgentHistoryCache, AgentHistoryEntry } from './agent-history-cache.js';
import type { AgentTaintCache } from './agent-taint-cache.js';
import type { SessionCache } from './session-cache.js';
import { InFlightCounts } from '../in-flight.js';
import { IdGenerator } from './ids.js';
import { assertJsonDepth, hasUnsafeInteger } from './input-limits.js';
import { defaultSessionId } from './types.js';
import type { EnforceRequest, EnforceResponse, EnforcementLedgerAppend, SafetyScannerLike } from './types.js';

/** Bus channel of calls that agent-wide sequence rules read (payload {@link AgentHistoryAnnouncement}). */
export const AGENT_HISTORY_CHANNEL = 'agent-history';

export interface AgentHistoryAnnouncement {
  tenantId: string;
  agentId: string;
  toolName: string;
  at: number;
  /** The call was a violation (counted by `progressive.across: agent`); absent = false. */
  violation?: boolean;
  /** The call was blocked (its tool is not remembered); absent = false. */
  blocked?: boolean;
  /** The announcing replica (`EnforcementDeps.replicaId`): it does not apply its own announcement again. */
  origin?: string;
}

/** Reads an announcement off the bus; undefined for anything malformed. */
export function readAgentHistoryAnnouncement(payload: unknown): Required<AgentHistoryAnnouncement> | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { tenantId, agentId, toolName, at, violation, blocked, origin } = payload as Record<string, unknown>;
  if (typeof tenantId !== 'string' || typeof agentId !== 'string' || typeof toolName !== 'string' || typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  return { tenantId, agentId, toolName, at, violation: violation === true, blocked: blocked === true, origin: typeof origin === 'string' ? origin : '' };
}

export interface EnforcementDeps {
  clock: Clock;
  policies: PolicyService;
  holds: HoldService;
  killSwitch: KillSwitchService;
  sessions: SessionCache;
  /** Agent-wide histories (sequence conditions with `after.across: agent`). */
  agentHistories: AgentHistoryCache;
  /** Values returned to each agent in any session, loaded when a data-flow rule with `across: agent` reads them. */
  agentTaints?: AgentTaintCache | undefined;
  /** Announces calls that agent-wide rules read to the other replicas (channel {@link AGENT_HISTORY_CHANNEL}). */
  bus?: Bus | undefined;
  /** Names this replica in its announcements, so it skips its own (a violation must not count twice). */
  replicaId?: string;
  onBusError?: (error: unknown) => void;
  counters: RateCounters;
  writer: DecisionWriter;
  fingerprint: Fingerprint;
  scanner?: SafetyScannerLike | undefined;
  appendLedger?: EnforcementLedgerAppend | undefined;
  onLedgerError?: (error: unknown) => void;
  /**
   * Masks secrets in the arguments that are stored (decision records, holds); evaluation and the action hash use
   * the raw arguments. Default: content safety's `redactSecretsDeep` (`[REDACTED:<rule id>]`).
   */
  redact?: ((value: unknown) => unknown) | undefined;
  /** HMAC key of hold action hashes (`TOLLGATE_DATA_FLOW_KEY`); unset = plain SHA-256. */
  actionKey?: string | undefined;
  /** `TOLLGATE_MAX_PENDING_HOLDS_PER_AGENT` (default {@link DEFAULT_MAX_PENDING_HOLDS_PER_AGENT}; 0 = no cap). */
  maxPendingHoldsPerAgent?: number | undefined;
}

/** Loads of rate counters before a call's evaluation gives up (each round loads what the previous one read). */
const MAX_COUNTER_LOAD_ROUNDS = 8;

/** Default of `TOLLGATE_MAX_PENDING_HOLDS_PER_AGENT`. */
export const DEFAULT_MAX_PENDING_HOLDS_PER_AGENT = 100;

/** An evaluated call, counted. */
interface Counted {
  result: EvaluationResult;
  /** Its rate-counter increments, written with the decision. */
  counters: ReturnType<RateCounters['increment']>[];
}

interface Outcome {
  result: EvaluationResult;
  decision: EvaluationResult['decision'];
  reason: string;
  /** A new hold, written with the decision. */
  hold: HoldRecord | null;
  /** The hold that already waits for exactly this action (a re-sent call): answered with its token, not written again. */
  waiting?: HoldRecord;
  /** Gives back the agent's place among holds created but not yet written (see `holdsInFlight`). */
  releaseHoldSlot?: () => void;
}

/**
 * `/v1/enforce`: kill switch, then the tenant's active policy over the session's state, then holds. Every
 * decision is written (group commit) before it is answered.
 *
 * @example
 * const answer = await enforcement.enforce('acme', { agentId: 'bot', toolName: 'send_email', arguments: {} });
 */
export class EnforcementService {
  private readonly ids = new IdGenerator();
  /** Holds created by this process whose decision is not written yet, per tenant and agent. */
  private readonly holdsInFlight = new InFlightCounts();

  constructor(private readonly deps: EnforcementDeps) {}

  async enforce(tenantId: string, request: EnforceRequest): Promise<EnforceResponse> {
    assertJsonDepth(request.arguments, 'arguments');
    const now = this.deps.clock.now();
    const input: EvaluationInput = {
      agentId: request.agentId, userId: request.userId ?? 'system', sessionId: request.sessionId ?? defaultSessionId(request.agentId),
      toolName: request.toolName, arguments: request.arguments ?? {}, enforcement: request.enforcement ?? 'block', now,
      ...(request.approvedScope ? { approvedScope: request.approvedScope } : {}),
    };
    const { active, broken } = await this.activeOrBroken(tenantId);
    const histories = this.deps.agentHistories;
    return this.deps.sessions.withSession(tenantId, input.sessionId, input.agentId, async (entry) => {
      const before = entry.state;
      const agentHistory = histories.peek(tenantId, input.agentId) ?? (await histories.load(tenantId, input.agentId));
      const halt = this.deps.killSwitch.haltReason(tenantId, input.agentId);
      const refusal = halt ?? broken;
      const safety = refusal === null ? this.safetyFor(active?.policy ?? null, input) : undefined;
      const evaluated = { ...input, ...(safety ? { safety } : {}) };
      if (refusal === null && this.deps.agentTaints && active?.policy.plan(input.toolName).readsAgentTaints) {
        await this.deps.agentTaints.ensure(agentHistory, now);
      }
      const counted = refusal === null
        ? await this.evaluateAndCount(tenantId, active?.policy ?? null, evaluated, before, agentHistory)
        : this.count(tenantId, killed(refusal, input.enforcement, halt === null ? 'policy-invalid' : 'kill-switch'), agentHistory, now);
      const { counters } = counted;
      const firstResult = counted.result;
      let result = firstResult;
      let outcome = await this.applyHolds(tenantId, request, input, result);
      // Halted while the holds were looked up: what is decided and answered from now on is BLOCK.
      const haltedMeanwhile = halt === null && outcome.decision !== 'BLOCK' ? this.deps.killSwitch.haltReason(tenantId, input.agentId) : null;
      if (haltedMeanwhile !== null) {
        outcome.releaseHoldSlot?.();
        result = killed(haltedMeanwhile, input.enforcement, 'kill-switch');
        outcome = { result, decision: 'BLOCK', reason: haltedMeanwhile, hold: null };
      }
      const decisionId = this.ids.next('dec', now);
      const violationId = result.violation || outcome.decision === 'BLOCK' ? this.ids.next('vio', now) : null;
      const record = this.decisionRecord(tenantId, request, input, outcome, { decisionId, violationId, active, before, safety, halt: halt ?? haltedMeanwhile });
      // In place: the cached session belongs to this call (one call per session at a time).
      entry.state = recordCallInPlace(before, input.toolName, now, { decision: outcome.decision, violation: result.violation }, { keep: active?.policy.sessionHistoryReads ?? null });
      const announce = histories.record(
        agentHistory, input.toolName, now, outcome.decision, active?.policy.agentHistoryReads ?? null, result.violation, agentEscalation(active?.policy), firstResult.violation,
      );
      entry.userId = input.userId;
      this.deps.sessions.markDirty(tenantId, input.sessionId, result.violation || before.violations !== entry.state.violations);
      try {
        await this.deps.writer.enqueue({
          decisions: [record], counters, holds: outcome.hold ? [outcome.hold] : [],
          violations: violationId ? [violationRecord(record, violationId, result)] : [],
        });
      } finally {
        // Written (or failed): from now on the store's count of pending holds includes it, or it does not exist.
        outcome.releaseHoldSlot?.();
      }
      if (outcome.hold) await this.deps.holds.announceCreated([outcome.hold]);
      const held = outcome.hold ?? outcome.waiting ?? null;
      if (announce && this.deps.bus) {
        // Before the answer: the agent cannot act on what it read until every replica knows it read it.
        const payload: AgentHistoryAnnouncement = {
          tenantId, agentId: input.agentId, toolName: input.toolName, at: now, ...(this.deps.replicaId ? { origin: this.deps.replicaId } : {}),
          ...(result.violation ? { violation: true } : {}), ...(outcome.decision === 'BLOCK' ? { blocked: true } : {}),
        };
        await this.deps.bus.publish(AGENT_HISTORY_CHANNEL, payload).catch((error: unknown) => this.deps.onBusError?.(error));
      }
      // Halted while the decision was being written: it is answered BLOCK (the ledger says why the stored ALLOW or
      // STEP_UP was not released), so no call is released after a kill switch's response has been returned.
      const haltedAtAnswer = outcome.decision !== 'BLOCK' ? this.deps.killSwitch.haltReason(tenantId, input.agentId) : null;
      if (haltedAtAnswer !== null) {
        this.ledger(tenantId, { ...record, decision: 'BLOCK', reason: `${haltedAtAnswer} (decision ${record.id}, recorded ${record.decision}, was not released)` }, { ...result, violation: true });
        return {
          decision: 'BLOCK', reason: haltedAtAnswer, decisionId, violationId, holdToken: null, holdExpiresAt: null, matchedRules: ['kill-switch'],
          policyVersion: active?.version ?? null, wouldHaveBeen: input.enforcement === 'observe' ? 'BLOCK' : null, captureOutput: false, mode: result.mode,
        };
      }
      this.ledger(tenantId, record, result);
      return {
        decision: outcome.decision, reason: outcome.reason, decisionId, violationId, holdToken: held?.id ?? null,
        holdExpiresAt: held ? new Date(held.expiresAt).toISOString() : null, matchedRules: [...result.matchedRules],
        policyVersion: active?.version ?? null, wouldHaveBeen: result.wouldHaveBeen, captureOutput: result.captureOutput, mode: result.mode,
      };
    });
  }

  /**
   * Evaluates and, in the same synchronous step, counts the call: its rate-limited use and its violation. A call of
   * this agent in another session evaluated later (even one whose continuation runs in the same microtask batch)
   * then sees them: counted after an await (holds are looked up in the store, on PostgreSQL over the network), 200
   * concurrent calls all evaluated against the same stale counts and slipped under a rate limit of 3. When rate
   * counters this replica has not seen must be loaded first, the call is evaluated again after loading.
   */
  private async evaluateAndCount(tenantId: string, policy: CompiledPolicy | null, input: EvaluationInput, session: SessionState, agent: AgentHistoryEntry): Promise<Counted> {
    const state = { session, agent: agent.history, fingerprint: this.deps.fingerprint, rateCount: (key: string) => this.deps.counters.peek(tenantId, key) ?? 0 };
    // Until every counter the result reads is loaded: while one loads, another session's call can change the
    // agent's history, so the next evaluation may fire a rule (`after … across: agent`) whose counter is not loaded
    // yet, which would count from 0 past a limit already used up (found after a restart on PostgreSQL).
    for (let round = 0; ; round += 1) {
      const result = evaluatePolicy(policy, input, state);
      if (result.rateLimitKeys.length === 0 || this.deps.counters.loaded(tenantId, result.rateLimitKeys)) return this.count(tenantId, result, agent, input.now);
      if (round >= MAX_COUNTER_LOAD_ROUNDS) {
        throw new TollgateError('UNAVAILABLE', 'rate-limit counters of this call kept changing while they were loaded; retry', { details: { retryAfter: 1 } });
      }
      await this.deps.counters.ensure(tenantId, result.rateLimitKeys, input.now);
    }
  }

  /** Counts an evaluated call at once (see {@link evaluateAndCount}); the counter changes are written with its decision. */
  private count(tenantId: string, result: EvaluationResult, agent: AgentHistoryEntry, now: number): Counted {
    const counters = result.rateLimitKeys.map((key) => this.deps.counters.increment(tenantId, key, now));
    if (result.violation) this.deps.agentHistories.countViolation(agent, now);
    return { result, counters };
  }

  private safetyFor(policy: CompiledPolicy | null, input: EvaluationInput): SafetyInput | undefined {
    if (!this.deps.scanner || !policy?.needsSafety(input.toolName)) return undefined;
    try {
      const scan = this.deps.scanner.scan(JSON.stringify(input.arguments ?? null), 'input');
      return { injection: scan.scores.injection, toxicity: scan.scores.toxicity, findings: scan.findings };
    } catch {
      return undefined; // without `safety`, the rules that read it fail closed
    }
  }

  /** STEP_UP: an approved hold for this exact action releases it once; otherwise a new hold. */
  /**
   * The tenant's active policy, or why there is none that can decide: a stored active version that no longer compiles
   * (a construct a newer release refuses, such as `matches()`) refuses every call with that reason, recorded like any
   * decision, instead of failing each request with an error the agent cannot act on. Never ALLOW by accident.
   */
  private async activeOrBroken(tenantId: string): Promise<{ active: Awaited<ReturnType<PolicyService['activePolicy']>>; broken: string | null }> {
    try {
      return { active: await this.deps.policies.activePolicy(tenantId), broken: null };
    } catch (error) {
      if (!(error instanceof TollgateError) || error.code !== 'POLICY_INVALID') throw error;
      return { active: null, broken: `the active policy no longer compiles (${error.message}); every call is refused until a valid version is activated (tollgate policy lint shows why)` };
    }
  }

  private async applyHolds(tenantId: string, request: EnforceRequest, input: EvaluationInput, result: EvaluationResult): Promise<Outcome> {
    const base: Outcome = { result, decision: result.decision, reason: result.reason, hold: null };
    if (request.holdToken === undefined && result.decision !== 'STEP_UP') return base;
    const hash = actionHash({ tenantId, agentId: input.agentId, userId: input.userId, sessionId: input.sessionId, toolName: input.toolName, arguments: input.arguments }, this.deps.actionKey);
    if (result.decision === 'BLOCK') return base;
    if (result.decision === 'STEP_UP' && hasUnsafeInteger(input.arguments)) {
      return { ...base, decision: 'BLOCK', reason: `${result.reason} (cannot be approved: the arguments hold an integer beyond ±2^53, which JSON parsing rounds, so an approval could not name the exact call; send it as a string)` };
    }
    if (request.holdToken !== undefined) {
      const redeemed = await this.deps.holds.redeem(tenantId, request.holdToken, hash);
      if (redeemed.ok) return { ...base, decision: 'ALLOW', reason: `approved by ${redeemed.hold.approver ?? 'a person'} (hold ${redeemed.hold.id}): ${result.reason}` };
      return { ...base, decision: 'BLOCK', reason: `hold token refused: ${redeemed.reason}` };
    }
    const approved = await this.deps.holds.redeemByAction(tenantId, hash);
    if (approved) return { ...base, decision: 'ALLOW', reason: `approved by ${approved.approver ?? 'a person'} (hold ${approved.id}): ${result.reason}` };
    const waiting = await this.deps.holds.pendingForAction(tenantId, hash);
    if (waiting) return { ...base, waiting };
    const cap = this.deps.maxPendingHoldsPerAgent ?? DEFAULT_MAX_PENDING_HOLDS_PER_AGENT;
    let releaseHoldSlot: (() => void) | undefined;
    if (cap > 0) {
      // The store counts written holds only, and a new hold is written with its decision's group commit: holds of
      // this agent created but not yet written count too, or 400 concurrent calls all found fewer than the cap pending.
      const place = this.holdsInFlight.take(`${tenantId}\n${input.agentId}`);
      releaseHoldSlot = place.release;
      let pending: number;
      try {
        pending = await this.deps.holds.countPending(tenantId, input.agentId, cap);
      } catch (error) {
        place.release();
        throw error;
      }
      if (pending + place.before >= cap) {
        place.release();
        return { ...base, decision: 'BLOCK', reason: `${result.reason} (not queued for approval: this agent already has ${cap} approvals pending; decide them or let them expire)` };
      }
    }
    const hold = this.deps.holds.newHold({
      tenantId, decisionId: '', actionHash: hash, agentId: input.agentId, userId: input.userId, sessionId: input.sessionId,
      toolName: input.toolName, arguments: this.redact(input.arguments), reason: result.reason,
    });
    return { ...base, hold, ...(releaseHoldSlot ? { releaseHoldSlot } : {}) };
  }

  private decisionRecord(
    tenantId: string, request: EnforceRequest, input: EvaluationInput, outcome: Outcome,
    extra: { decisionId: string; violationId: string | null; active: { policyId: string; version: number } | null; before: SessionState; safety: SafetyInput | undefined; halt: string | null },
  ): DecisionRecord {
    const { result } = outcome;
    if (outcome.hold) outcome.hold.decisionId = extra.decisionId;
    return {
      id: extra.decisionId, tenantId, ts: input.now, agentId: input.agentId, userId: input.userId, sessionId: input.sessionId,
      toolName: input.toolName, callId: request.callId ?? null, requestedMode: input.enforcement, mode: result.mode,
      decision: outcome.decision, verdict: result.verdict, wouldHaveBeen: result.wouldHaveBeen, reason: outcome.reason,
      violationId: extra.violationId, severity: result.severity, holdId: outcome.hold?.id ?? outcome.waiting?.id ?? null, policyId: extra.active?.policyId ?? null,
      policyVersion: extra.active?.version ?? null, matchedRules: [...result.matchedRules], shadow: [...result.shadow], errors: [...result.errors],
      // A STEP_UP's hold already holds the masked arguments: reuse them rather than scanning the call twice.
      arguments: outcome.hold ? outcome.hold.arguments : this.redact(input.arguments), approvedScope: request.approvedScope ?? null,
      context: {
        // Last-call times are not copied into every decision: replay rebuilds them from earlier decisions.
        session: { callCount: extra.before.callCount, violations: extra.before.violations, taintCount: extra.before.taints.size },
        ...(extra.safety ? { safety: extra.safety } : {}), ...(extra.halt ? { killSwitch: extra.halt } : {}),
        ...(request.holdToken ? { holdToken: request.holdToken } : {}),
        ...(outcome.decision !== result.decision ? { policyDecision: result.decision } : {}),
      },
    };
  }

  /** What is persisted of a call's arguments: secrets masked, everything else unchanged. */
  private redact(value: unknown): unknown {
    return (this.deps.redact ?? redactSecretsDeep)(value);
  }

  private ledger(tenantId: string, record: DecisionRecord, result: EvaluationResult): void {
    if (!this.deps.appendLedger || (record.decision === 'ALLOW' && !result.violation)) return;
    this.deps.appendLedger(tenantId, {
      type: record.violationId ? 'enforcement.violation' : 'enforcement.decision', agentId: record.agentId, sessionId: record.sessionId,
      isViolation: record.violationId !== null,
      data: {
        decisionId: record.id, violationId: record.violationId, toolName: record.toolName, decision: record.decision, verdict: record.verdict,
        reason: record.reason, matchedRules: record.matchedRules, holdId: record.holdId, policyVersion: record.policyVersion, mode: record.mode,
      },
    }).catch((error: unknown) => this.deps.onLedgerError?.(error));
  }
}

function killed(reason: string, mode: EvaluationInput['enforcement'], rule: 'kill-switch' | 'policy-invalid'): EvaluationResult {
  return {
    decision: 'BLOCK', reason, mode, verdict: 'BLOCK', wouldHaveBeen: mode === 'observe' ? 'BLOCK' : null, violation: true,
    severity: 'critical', matchedRules: [rule], shadow: [], errors: [], captureOutput: false, rateLimitKeys: [],
  };
}

function violationRecord(record: DecisionRecord, id: string, result: EvaluationResult): ViolationRecord {
  return {
    id, tenantId: record.tenantId, decisionId: record.id, ts: record.ts, agentId: record.agentId, userId: record.userId,
    sessionId: record.sessionId, toolName: record.toolName, decision: record.decision, severity: result.severity,
    reason: record.reason, ruleIds: [...result.matchedRules],
  };
}

/** The policy's agent-wide progressive setting (`progressive.across: agent`), or null. */
function agentEscalation(policy: CompiledPolicy | undefined): { withinMs: number; blockAfter: number } | null {
  const progressive = policy?.document.progressive;
  return progressive?.across === 'agent' && progressive.withinMs !== undefined ? { withinMs: progressive.withinMs, blockAfter: progressive.blockAfter } : null;
}
