import { evaluateOutput, outputTaintEntries, recordLabeledTaintsInPlace } from '@tollgate/core';
import type { CompiledPolicy, Fingerprint, SafetyInput } from '@tollgate/core';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { AgentHistoryCache } from './agent-history-cache.js';
import { AGENT_TAINTS_CHANNEL } from './agent-taint-cache.js';
import type { AgentTaintAnnouncement, AgentTaintCache } from './agent-taint-cache.js';
import type { PolicyService } from '../policies/policy-service.js';
import type { DecisionWriter } from './decision-writer.js';
import type { SessionCache } from './session-cache.js';
import { IdGenerator } from './ids.js';
import { assertJsonDepth } from './input-limits.js';
import { defaultSessionId } from './types.js';
import type { EnforcementLedgerAppend, OutputRequest, OutputResponse, SafetyScannerLike } from './types.js';

/**
 * `/v1/enforce/output`: output rules (with the content scanner when a rule reads `safety`), then the
 * data-flow fingerprints of sensitive tools' outputs are added to the session. Recorded before answering.
 *
 * @example
 * await outputs.check('acme', { agentId: 'bot', toolName: 'read_customer', sessionId: 's-1', output: { email: 'x@y.z' } });
 */
export class OutputService {
  private readonly ids = new IdGenerator();

  constructor(private readonly deps: {
    clock: Clock; policies: PolicyService; sessions: SessionCache; writer: DecisionWriter; fingerprint: Fingerprint;
    scanner?: SafetyScannerLike | undefined; appendLedger?: EnforcementLedgerAppend | undefined; onLedgerError?: (error: unknown) => void;
    /** Values returned to agents in any session (data-flow rules with `across: agent`); unset: not kept. */
    agentTaints?: { histories: AgentHistoryCache; cache: AgentTaintCache } | undefined;
    /** Announces values returned to an agent to the other replicas (channel `agent-taints`) while a policy reads them. */
    bus?: Bus | undefined;
    replicaId?: string | undefined;
    onBusError?: (error: unknown) => void;
  }) {}

  async check(tenantId: string, request: OutputRequest): Promise<OutputResponse> {
    assertJsonDepth(request.output, 'output');
    const now = this.deps.clock.now();
    const sessionId = request.sessionId ?? defaultSessionId(request.agentId);
    const active = await this.deps.policies.activePolicy(tenantId);
    const policy = active?.policy ?? null;
    return this.deps.sessions.withSession(tenantId, sessionId, request.agentId, async (entry) => {
      const safety = this.safetyFor(policy, request);
      const result = evaluateOutput(policy, {
        agentId: request.agentId, userId: entry.userId, sessionId, toolName: request.toolName, output: request.output ?? null,
        enforcement: 'block', now, ...(safety ? { safety } : {}),
      }, { session: entry.state, fingerprint: this.deps.fingerprint });
      // In place: the cached session belongs to this call (one call per session at a time), and copying a session
      // that holds 10,000 values on every output cost ~1.7 ms.
      const entries = result.decision === 'ALLOW' ? outputTaintEntries(policy, request.toolName, request.output, this.deps.fingerprint) : [];
      if (recordLabeledTaintsInPlace(entry.state, entries).length > 0) this.deps.sessions.markDirty(tenantId, sessionId, true);
      // Every value of the output with the labels this output gave it (also the values the session already held): the
      // agent's values are read back from these rows, and a value returned again is remembered for longer.
      const added = entries.map((value): [string, readonly string[]] => [value.fingerprint, value.labels]);
      const windowSizes = [...entry.state.windowSizes];
      const violationId = result.violation ? this.ids.next('vio', now) : null;
      const decisionId = request.decisionId ?? this.ids.next('out', now);
      await this.deps.writer.enqueue({
        outputs: [{ tenantId, decisionId, agentId: request.agentId, sessionId, toolName: request.toolName, ts: now, decision: result.decision, reason: result.reason, taints: { added, windowSizes } }],
        violations: violationId ? [{
          id: violationId, tenantId, decisionId, ts: now, agentId: request.agentId, userId: entry.userId, sessionId, toolName: request.toolName,
          decision: result.decision, severity: 'high', reason: result.reason, ruleIds: [...result.matchedRules],
        }] : [],
      });
      if (added.length > 0) await this.rememberForAgent(tenantId, request.agentId, policy, added, windowSizes, now);
      if (violationId) {
        this.deps.appendLedger?.(tenantId, {
          type: 'enforcement.output_violation', agentId: request.agentId, sessionId, isViolation: true,
          data: { decisionId, violationId, toolName: request.toolName, decision: result.decision, reason: result.reason, matchedRules: result.matchedRules },
        }).catch((error: unknown) => this.deps.onLedgerError?.(error));
      }
      return { decision: result.decision, reason: result.reason, violationId };
    });
  }

  /**
   * Applies an output's values to the agent's values in memory (when loaded) and, while the active policy reads them,
   * tells the other replicas before the output is answered, as a call that agent-wide sequence rules read is.
   */
  private async rememberForAgent(
    tenantId: string, agentId: string, policy: CompiledPolicy | null, added: ReadonlyArray<readonly [string, readonly string[]]>, windowSizes: readonly number[], now: number,
  ): Promise<void> {
    const agentTaints = this.deps.agentTaints;
    if (!agentTaints) return;
    const entry = agentTaints.histories.peek(tenantId, agentId);
    if (entry) agentTaints.cache.add(entry, added, windowSizes, now);
    if ((policy?.agentFlowWindowMs ?? 0) > 0 && this.deps.bus) {
      const payload: AgentTaintAnnouncement = { tenantId, agentId, ...(this.deps.replicaId ? { origin: this.deps.replicaId } : {}) };
      await this.deps.bus.publish(AGENT_TAINTS_CHANNEL, payload).catch((error: unknown) => this.deps.onBusError?.(error));
    }
  }

  private safetyFor(policy: CompiledPolicy | null, request: OutputRequest): SafetyInput | undefined {
    if (!this.deps.scanner || !policy?.needsSafety(request.toolName, 'output')) return undefined;
    const text = typeof request.output === 'string' ? request.output : JSON.stringify(request.output ?? null);
    try {
      const scan = this.deps.scanner.scan(text, 'tool_output');
      return { injection: scan.scores.injection, toxicity: scan.scores.toxicity, findings: scan.findings };
    } catch {
      return undefined; // without `safety`, the rules that read it fail closed
    }
  }
}
