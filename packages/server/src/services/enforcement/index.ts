import { randomUUID } from 'node:crypto';
import { createHmac } from 'node:crypto';
import { createSafetyScanner, sha256Fingerprint } from '@tollgate/core';
import type { Fingerprint } from '@tollgate/core';
import type { Logger } from 'pino';
import type { TollgateConfig } from '../../config.js';
import type { Store } from '../../store/index.js';
import type { EnforcementBatch } from '../../store/repositories/decisions.js';
import { PolicyLoader } from '../policies/policy-loader.js';
import { createSqliteBatchWriter } from '../../store/repositories/decisions-sqlite-native.js';
import { ApprovalService } from '../approvals/approval-service.js';
import { holdApprovalSource, permissionRequestApprovalSource } from '../approvals/sources.js';
import type { PermissionRequestsLike } from '../approvals/sources.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import { HoldService } from '../holds/hold-service.js';
import { KillSwitchService } from '../kill-switch/kill-switch-service.js';
import { PolicyService } from '../policies/policy-service.js';
import { AgentHistoryCache } from './agent-history-cache.js';
import { AGENT_TAINTS_CHANNEL, AgentTaintCache, readAgentTaintAnnouncement } from './agent-taint-cache.js';
import { COUNTER_SWEEP_INTERVAL_MS, sweepExpiredCounters } from './counter-sweeper.js';
import { DecisionWriter } from './decision-writer.js';
import { AGENT_HISTORY_CHANNEL, EnforcementService, readAgentHistoryAnnouncement } from './enforcement-service.js';
import { OutputService } from './output-service.js';
import { RateCounters } from './rate-counters.js';
import { DEFAULT_SESSION_WRITE_INTERVAL_MS, SessionCache } from './session-cache.js';
import type { EnforcementLedgerAppend, SafetyScannerLike } from './types.js';
import type { DomainMetrics } from '../metrics/domain-metrics.js';

/** The services of the enforcement area, as they appear on `Services`. */
export interface EnforcementServices {
  readonly policies: PolicyService;
  readonly holds: HoldService;
  readonly approvals: ApprovalService;
  readonly killSwitch: KillSwitchService;
  readonly enforcement: EnforcementService;
  readonly enforcementOutputs: OutputService;
}

export interface EnforcementAreaDeps {
  config: TollgateConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  bus: Bus;
  /** `services.ledger` once it exists. */
  ledger?: { append: EnforcementLedgerAppend } | undefined;
  /** Content scanner for rules that read `safety`; default: the built-in scanner of @tollgate/core. */
  scanner?: SafetyScannerLike | undefined;
  /** Sandbox permission requests, listed in the same approvals queue. */
  permissionRequests?: { service: PermissionRequestsLike; channel: string } | undefined;
  /** `/metrics` figures of decisions, holds and group commits. */
  metrics?: DomainMetrics | undefined;
}

/**
 * Builds and starts the enforcement area: policies, holds, approvals, kill switch, /v1/enforce.
 *
 * @example
 * const area = await createEnforcementServices({ config, store, clock, logger, bus });
 * // … later: await area.close();
 */
export async function createEnforcementServices(deps: EnforcementAreaDeps): Promise<{ services: EnforcementServices; close: () => Promise<void>; forgetBefore: (tenantId: string, cutoff: number) => void }> {
  const { store, clock, bus, logger } = deps;
  const appendLedger = deps.ledger ? (tenantId: string, entry: Parameters<EnforcementLedgerAppend>[1]) => deps.ledger!.append(tenantId, entry) : undefined;
  const onLedgerError = (error: unknown) => logger.error({ err: error }, 'ledger append of an enforcement record failed');
  const fingerprint = dataFlowFingerprint(deps.config.dataFlowKey);
  const scanner = deps.scanner ?? createSafetyScanner();
  const loader = new PolicyLoader({ onError: (message) => logger.warn(message) });
  const policies = new PolicyService({ repository: store.policies, decisions: store.decisions, bus, clock, fingerprint, appendLedger, loader });
  const holds = new HoldService({
    repository: store.holds, bus, clock, ttlMs: deps.config.holdTtlMs, appendLedger,
    onResolved: deps.metrics ? (status, count) => deps.metrics!.holdResolved(status, count) : undefined,
  });
  const killSwitch = new KillSwitchService({
    repository: store.killSwitches, bus, clock, appendLedger,
    onReloadError: (error) => logger.error({ err: error }, 'reading a kill switch back after a change failed; this replica keeps the state it had'),
  });
  const approvals = new ApprovalService({ bus });
  approvals.register(holdApprovalSource(holds));
  if (deps.permissionRequests) approvals.register(permissionRequestApprovalSource(deps.permissionRequests.service, deps.permissionRequests.channel));
  const sessions = new SessionCache({ load: (tenantId, sessionId) => store.decisions.loadSessionState(tenantId, sessionId) });
  const agentHistories = new AgentHistoryCache({ load: (tenantId, agentId) => store.decisions.loadAgentHistory(tenantId, agentId) });
  const agentTaints = new AgentTaintCache({ load: (tenantId, agentId, query) => store.decisions.agentOutputs(tenantId, agentId, query) });
  const counters = new RateCounters({ load: (tenantId, keys, now) => store.decisions.loadCounters(tenantId, keys, now) });
  const native = store.native;
  const writeBatch = native.dialect === 'sqlite' ? createSqliteBatchWriter(native.database) : (batch: EnforcementBatch) => store.decisions.writeBatch(batch);
  const writer = new DecisionWriter({
    write: deps.metrics ? measuredWrite(writeBatch, deps.metrics) : writeBatch,
    extras: () => {
      const now = clock.now();
      return { sessions: sessions.takeDirty(now), agents: agentHistories.takeDirty(now) };
    },
    onFailure: (error, parts) => {
      logger.error({ err: error }, 'recording enforcement decisions failed; the calls were refused');
      for (const part of parts) {
        for (const decision of part.decisions ?? []) sessions.forget(decision.tenantId, decision.sessionId);
        // Agent histories stay as decided (never behind what was answered): written again with a later batch.
        agentHistories.markDirty(part.agents ?? []);
      }
    },
  });
  deps.metrics?.watchDecisionWriter(() => writer.waiting);
  const replicaId = randomUUID();
  const enforcement = new EnforcementService({ clock, policies, holds, killSwitch, sessions, agentHistories, agentTaints, bus, replicaId, onBusError: (error) => logger.error({ err: error }, 'announcing an agent-wide history call failed'), counters, writer, fingerprint, scanner, appendLedger, onLedgerError, actionKey: deps.config.dataFlowKey, maxPendingHoldsPerAgent: deps.config.maxPendingHoldsPerAgent });
  const enforcementOutputs = new OutputService({
    clock, policies, sessions, writer, fingerprint, scanner, appendLedger, onLedgerError, agentTaints: { histories: agentHistories, cache: agentTaints },
    bus, replicaId, onBusError: (error) => logger.error({ err: error }, 'announcing values returned to an agent failed'),
  });
  // Sessions whose only change is their last-call times are written at most once a second; this timer
  // writes them when no decision traffic carries them along.
  const sessionTimer = setInterval(() => {
    if (sessions.hasDirty() || agentHistories.hasDirty()) writer.enqueue({}).catch((error: unknown) => logger.error({ err: error }, 'writing session state failed'));
  }, DEFAULT_SESSION_WRITE_INTERVAL_MS);
  sessionTimer.unref();
  let sweeping: Promise<void> | undefined;
  const sweepCounters = () => {
    sweeping ??= sweepExpiredCounters(store.decisions, clock.now())
      .then(() => undefined, (error: unknown) => logger.warn({ err: error }, 'deleting expired rate-limit counters failed; the next sweep tries again'))
      .finally(() => { sweeping = undefined; });
  };
  const counterTimer = setInterval(sweepCounters, COUNTER_SWEEP_INTERVAL_MS);
  counterTimer.unref();
  // Calls that agent-wide rules read, decided on other replicas (and on this one: applying it twice changes nothing).
  const unsubscribeAgentHistory = bus.subscribe(AGENT_HISTORY_CHANNEL, (payload) => {
    const call = readAgentHistoryAnnouncement(payload);
    // This replica recorded its own call already: a violation applied again would count twice.
    if (call === undefined || call.origin === replicaId) return;
    policies.activePolicy(call.tenantId).then(
      (active) => agentHistories.apply(call.tenantId, call.agentId, call.toolName, call.at, active?.policy.agentHistoryReads ?? null, outcomeOf(call)),
      () => agentHistories.apply(call.tenantId, call.agentId, call.toolName, call.at, null, outcomeOf(call)),
    );
  });
  // Values returned to an agent on another replica: its next agent-wide data-flow check reads the rows added since.
  const unsubscribeAgentTaints = bus.subscribe(AGENT_TAINTS_CHANNEL, (payload) => {
    const announced = readAgentTaintAnnouncement(payload);
    if (announced === undefined || announced.origin === replicaId) return;
    agentTaints.markStale(announced.tenantId, announced.agentId);
  });
  await killSwitch.start();
  policies.start();
  holds.start();
  return {
    services: { policies, holds, approvals, killSwitch, enforcement, enforcementOutputs },
    /**
     * Called by data retention after it deleted a tenant's rows older than `cutoff`: memory forgets them too (agent-wide
     * values and calls before the cut-off; cached sessions with nothing to write are loaded again from the store).
     */
    forgetBefore: (tenantId: string, cutoff: number) => {
      agentTaints.forgetBefore(tenantId, cutoff);
      agentHistories.forgetBefore(tenantId, cutoff);
      sessions.forgetTenant(tenantId);
    },
    close: async () => {
      clearInterval(sessionTimer);
      clearInterval(counterTimer);
      await sweeping;
      unsubscribeAgentHistory();
      unsubscribeAgentTaints();
      holds.close();
      policies.close();
      await loader.close();
      killSwitch.close();
      await killSwitch.settled();
      await writer.drain();
      if (sessions.hasDirty() || agentHistories.hasDirty()) {
        const now = clock.now();
        await writeBatch({ decisions: [], violations: [], holds: [], outputs: [], counters: [], sessions: sessions.takeDirty(now, true), agents: agentHistories.takeDirty(now, true) });
      }
    },
  };
}

/**
 * The fingerprint of data-flow values: HMAC-SHA-256 under `TOLLGATE_DATA_FLOW_KEY`, or plain SHA-256 without a key.
 * Replays must use the same function as the server that recorded the outputs.
 *
 * @example
 * const fingerprint = dataFlowFingerprint(config.dataFlowKey);
 */
export function dataFlowFingerprint(key: string | undefined): Fingerprint {
  if (key === undefined || key === '') return sha256Fingerprint;
  return (normalized) => createHmac('sha256', key).update(normalized).digest('hex').slice(0, 16);
}

/** The group commit, timed and counted for `/metrics` (a failed commit is counted and rethrown). */
function measuredWrite(write: (batch: EnforcementBatch) => Promise<void>, metrics: DomainMetrics): (batch: EnforcementBatch) => Promise<void> {
  return async (batch) => {
    const started = performance.now();
    try {
      await write(batch);
    } catch (error) {
      metrics.decisionWriteFailed();
      throw error;
    }
    metrics.decisionsRecorded(batch, (performance.now() - started) / 1000);
  };
}

/** What an announced call did, as the agent history records it. */
function outcomeOf(call: { blocked: boolean; violation: boolean }): { decision: string; violation: boolean } {
  return { decision: call.blocked ? 'BLOCK' : 'ALLOW', violation: call.violation };
}
