import { TollgateError, openCheckpoint, parseVerifierKey } from '@tollgate/core';
import type { CompiledPolicy } from '@tollgate/core';
import type { Store } from '../../store/index.js';
import type { SandboxAgent } from '../../store/repositories/sandbox-agents.js';
import type { Clock } from '../clock.js';
import { runChecks } from './checks.js';
import { evaluateFramework } from './evaluate.js';
import { gatherFacts, type ComplianceFacts } from './facts.js';
import { requireFrameworkCode } from './frameworks/index.js';
import {
  COMPLIANCE_DISCLAIMER, type ComplianceFrameworkCode, type FrameworkEvaluation, type LedgerCheckpointEvidence,
} from './types.js';

/** The agent as an evaluation saw it. */
export interface AgentSnapshot {
  id: number;
  name: string;
  version: string;
  code_sha256: string;
  sandbox_template: string | null;
}

/** A stored framework evaluation as the API returns it. */
export interface StoredFrameworkEvaluation extends FrameworkEvaluation {
  agent: AgentSnapshot;
  /** Ledger index of the `compliance.evaluated` record of this evaluation. */
  ledger_index: number | null;
  /** True when the agent was changed after this evaluation (run evaluateCompliance()). */
  stale: boolean;
}

/** `getComplianceStatus()` / `evaluateCompliance()`. */
export interface ComplianceStatusView {
  agent_id: number;
  agent_name: string;
  configured_frameworks: ComplianceFrameworkCode[];
  frameworks: Partial<Record<ComplianceFrameworkCode, StoredFrameworkEvaluation>>;
  evaluated_at: string;
  disclaimer: string;
}

/** What the service needs of the ledger (structural). */
export interface ComplianceLedger {
  checkpoint(tenantId: string): Promise<{ origin: string; size: number; rootHash: string; note: string; publicKey: string; createdAt: string }>;
  append(tenantId: string, entry: { type: string; actor?: string | null; agentId?: string; data: unknown }): Promise<{ index: number }>;
}

export interface ComplianceServiceDeps {
  store: Store;
  clock: Clock;
  ledger: ComplianceLedger;
  activePolicy: (tenantId: string) => Promise<{ policyId: string; version: number; policy: CompiledPolicy } | null>;
  haltReason: (tenantId: string, agent: SandboxAgent) => string | null;
}

/**
 * Evaluates sandboxed agents against the EU AI Act, SOC 2 and NIST AI RMF catalogues, stores the result per
 * framework (the cache `getComplianceStatus()` reads) and records each evaluation in the ledger.
 *
 * @example
 * const status = await compliance.evaluate('acme', 3, 'key_1');
 * status.frameworks.soc2?.label; // 'DOCUMENTED'
 */
export class ComplianceService {
  constructor(private readonly deps: ComplianceServiceDeps) {}

  /** Cached results per configured framework; frameworks never evaluated (or removed from the cache) are evaluated now. */
  async status(tenantId: string, agentId: number, actor: string | null): Promise<ComplianceStatusView> {
    const agent = await this.agent(tenantId, agentId);
    const codes = configuredFrameworks(agent);
    const cached = await Promise.all(codes.map((code) => this.deps.store.compliance.latest(tenantId, agent.id, code, agent.createdAt)));
    if (cached.some((row) => row === undefined)) return this.evaluateAgent(tenantId, agent, codes, actor);
    const frameworks: ComplianceStatusView['frameworks'] = {};
    for (const row of cached) {
      if (!row) continue;
      const report = row.report as unknown as StoredFrameworkEvaluation;
      frameworks[row.framework as ComplianceFrameworkCode] = { ...report, ledger_index: row.ledgerIndex, stale: agent.updatedAt > row.evaluatedAt };
    }
    const latest = Math.max(...cached.map((row) => row?.evaluatedAt ?? 0));
    return view(agent, codes, frameworks, latest);
  }

  /** Re-runs every configured framework now and refreshes the cache. */
  async evaluate(tenantId: string, agentId: number, actor: string | null): Promise<ComplianceStatusView> {
    const agent = await this.agent(tenantId, agentId);
    return this.evaluateAgent(tenantId, agent, configuredFrameworks(agent), actor);
  }

  /** One framework's cached evaluation (evaluating when there is none); the framework must be configured. */
  async framework(tenantId: string, agentId: number, framework: string, actor: string | null): Promise<StoredFrameworkEvaluation> {
    const code = requireFrameworkCode(framework, 'framework');
    const status = await this.status(tenantId, agentId, actor);
    const evaluation = status.frameworks[code];
    if (!evaluation) {
      throw new TollgateError('COMPLIANCE_NOT_CONFIGURED', `framework ${code} is not configured for agent ${agentId}: add it to config.compliance`, {
        details: { field: 'framework', configured: status.configured_frameworks },
      });
    }
    return evaluation;
  }

  private async evaluateAgent(tenantId: string, agent: SandboxAgent, codes: ComplianceFrameworkCode[], actor: string | null): Promise<ComplianceStatusView> {
    const at = this.deps.clock.now();
    const facts = await gatherFacts({
      store: this.deps.store, now: () => at, checkpoint: (tenant) => this.checkpointEvidence(tenant),
      activePolicy: this.deps.activePolicy, haltReason: this.deps.haltReason,
    }, tenantId, agent);
    const checks = runChecks(facts);
    const snapshot = snapshotOf(facts);
    const evaluations = codes.map((code) => ({ ...evaluateFramework(code, checks, facts.ledger.checkpoint, at), agent: snapshot }));
    const record = await this.deps.ledger.append(tenantId, {
      type: 'compliance.evaluated', actor, agentId: String(agent.id),
      data: {
        agent_id: agent.id, code_sha256: snapshot.code_sha256,
        checkpoint: facts.ledger.checkpoint ? { tree_size: facts.ledger.checkpoint.tree_size, root_hash: facts.ledger.checkpoint.root_hash } : null,
        frameworks: Object.fromEntries(evaluations.map((e) => [e.framework, {
          label: e.label, coverage_percent: e.coverage_percent, counts: e.counts, gaps: e.controls.filter((c) => c.status === 'gap').map((c) => c.id),
        }])),
      },
    });
    const frameworks: ComplianceStatusView['frameworks'] = {};
    for (const evaluation of evaluations) {
      await this.deps.store.compliance.insert({
        tenantId, agentId: agent.id, framework: evaluation.framework, status: evaluation.label, coveragePercent: evaluation.coverage_percent,
        report: evaluation as unknown as Record<string, unknown>, ledgerIndex: record.index, evaluatedAt: at,
      });
      frameworks[evaluation.framework] = { ...evaluation, ledger_index: record.index, stale: false };
    }
    return view(agent, codes, frameworks, at);
  }

  /** The latest signed checkpoint (signing one that covers every record), with its signature checked. */
  private async checkpointEvidence(tenantId: string): Promise<LedgerCheckpointEvidence | null> {
    let checkpoint: Awaited<ReturnType<ComplianceLedger['checkpoint']>>;
    try {
      checkpoint = await this.deps.ledger.checkpoint(tenantId);
    } catch {
      return null;
    }
    let signatureValid = false;
    try {
      signatureValid = openCheckpoint(checkpoint.note, parseVerifierKey(checkpoint.publicKey)).size === checkpoint.size;
    } catch {
      signatureValid = false;
    }
    return {
      origin: checkpoint.origin, tree_size: checkpoint.size, root_hash: checkpoint.rootHash, note: checkpoint.note,
      public_key: checkpoint.publicKey, created_at: checkpoint.createdAt, signature_valid: signatureValid,
    };
  }

  private async agent(tenantId: string, agentId: number): Promise<SandboxAgent> {
    const agent = await this.deps.store.sandboxAgents.get(tenantId, agentId);
    if (!agent) throw new TollgateError('NOT_FOUND', `agent ${agentId} not found`);
    return agent;
  }
}

/**
 * The agent's `config.compliance` codes; none configured is `COMPLIANCE_NOT_CONFIGURED`, an unknown one
 * `COMPLIANCE_FRAMEWORK_UNKNOWN`.
 *
 * @example
 * configuredFrameworks(agent); // ['eu_ai_act', 'soc2']
 */
export function configuredFrameworks(agent: SandboxAgent): ComplianceFrameworkCode[] {
  const configured = agent.config.compliance;
  if (!Array.isArray(configured) || configured.length === 0) {
    throw new TollgateError('COMPLIANCE_NOT_CONFIGURED', `agent ${agent.id} has no compliance frameworks: set config.compliance (e.g. new SecureAgent({ compliance: ['eu_ai_act', 'soc2', 'nist_ai_rmf'] }))`, {
      details: { field: 'config.compliance', supported: ['eu_ai_act', 'soc2', 'nist_ai_rmf'] },
    });
  }
  return [...new Set(configured.map((code) => requireFrameworkCode(code, 'config.compliance')))];
}

function snapshotOf(facts: ComplianceFacts): AgentSnapshot {
  return { id: facts.agent.id, name: facts.agent.name, version: facts.agent.version, code_sha256: facts.agent.codeSha256, sandbox_template: facts.agent.resolved.template };
}

function view(agent: SandboxAgent, codes: ComplianceFrameworkCode[], frameworks: ComplianceStatusView['frameworks'], at: number): ComplianceStatusView {
  return {
    agent_id: agent.id, agent_name: agent.name, configured_frameworks: codes, frameworks,
    evaluated_at: new Date(at).toISOString(), disclaimer: COMPLIANCE_DISCLAIMER,
  };
}
