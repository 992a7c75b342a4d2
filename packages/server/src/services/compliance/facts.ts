import { createHash } from 'node:crypto';
import { detectSecrets, type CompiledPolicy } from '@tollgate/core';
import type { ResolvedSandboxConfig } from '@tollgate/sandbox';
import type { Store } from '../../store/index.js';
import { GLOBAL_KILL_AGENT } from '../../store/repositories/kill-switches.js';
import type { SandboxAgent } from '../../store/repositories/sandbox-agents.js';
import { resolveAgentConfig } from '../sandbox/agent-service.js';
import { policyFacts, type PolicyFacts } from './policy-facts.js';
import type { LedgerCheckpointEvidence } from './types.js';

export type { PolicyFacts } from './policy-facts.js';

/** Ledger tables whose append-only triggers are evidence of immutability (migration 0003). */
export const LEDGER_TRIGGER_TABLES = ['ledger_records', 'ledger_checkpoints'] as const;
/** Triggers migration 0003 installs on those tables, per dialect. */
export const EXPECTED_LEDGER_TRIGGERS: Readonly<Record<'sqlite' | 'postgres', readonly string[]>> = {
  sqlite: LEDGER_TRIGGER_TABLES.flatMap((table) => [`${table}_no_update`, `${table}_no_delete`]),
  postgres: LEDGER_TRIGGER_TABLES.flatMap((table) => [`${table}_append_only`, `${table}_no_truncate`]),
};
/** How far back violations count. */
export const VIOLATION_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** Everything the checks look at, gathered once per evaluation. Counts and names only: never secret values. */
export interface ComplianceFacts {
  agent: {
    id: number; name: string; version: string; status: string; codeSha256: string;
    config: Record<string, unknown>; resolved: ResolvedSandboxConfig; credentialNames: string[];
    /** Rule ids of secrets found in the entry code (never the values). */
    secretsInCode: string[];
  };
  credentials: { active: number; revoked: number; granted: Array<{ name: string; stored: boolean }> };
  ledger: { records: number; agentRecords: number; checkpoint: LedgerCheckpointEvidence | null };
  immutability: { dialect: 'sqlite' | 'postgres'; expected: readonly string[]; present: string[] };
  killSwitch: { haltedNow: string | null; agentEvents: number; tenantEvents: number; lastEvent: { type: string; scope: 'global' | 'agent'; reason: string | null; at: string } | null };
  permissionRequests: { approved: number; denied: number; expired: number; pending: number };
  policy: PolicyFacts | null;
  holds: { approved: number; denied: number; expired: number; pending: number };
  violations: { windowDays: number; agent: number; tenant: number };
}

/** Collaborators the gathering needs (structural, so tests can pass fakes). */
export interface FactSources {
  store: Store;
  now: () => number;
  checkpoint: (tenantId: string) => Promise<LedgerCheckpointEvidence | null>;
  activePolicy: (tenantId: string) => Promise<{ policyId: string; version: number; policy: CompiledPolicy } | null>;
  haltReason: (tenantId: string, agent: SandboxAgent) => string | null;
}

const KILL_TYPES = ['kill_switch.engaged', 'kill_switch.released', 'sandbox.kill'];

/**
 * Reads the real state behind every check: agent config, vault, ledger, triggers, kill switch, permission
 * requests, policy, holds and violations.
 *
 * @example
 * const facts = await gatherFacts(sources, 'acme', agent);
 */
export async function gatherFacts(sources: FactSources, tenantId: string, agent: SandboxAgent): Promise<ComplianceFacts> {
  const { store } = sources;
  const { sandbox, credentials: credentialNames } = resolveAgentConfig(agent.config);
  const agentKeys = [String(agent.id), agent.name];
  const [credentials, checkpoint, policy, triggers] = await Promise.all([
    store.credentials.list(tenantId), sources.checkpoint(tenantId), sources.activePolicy(tenantId),
    store.compliance.triggersOn(LEDGER_TRIGGER_TABLES),
  ]);
  const active = credentials.filter((credential) => credential.revokedAt === null);
  const keys = [...new Set(agentKeys)];
  const countAgent = async (types: string[] | undefined, extra: { violationsOnly?: boolean; fromMs?: number } = {}) => {
    let total = 0;
    for (const agentId of keys) total += await store.ledger.count(tenantId, { types, agentId, ...extra });
    return total;
  };
  // Every all-time count below from one pass over the tenant's log (they were 14 full scans: seconds on a large log,
  // on the event loop on SQLite).
  const groups = await store.ledger.countByTypeAndAgent(tenantId, {});
  const counted = (types: readonly string[] | undefined, agents: readonly string[] | undefined) => groups
    .filter((group) => (types === undefined || types.includes(group.type)) && (agents === undefined || (group.agentId !== null && agents.includes(group.agentId))))
    .reduce((sum, group) => sum + group.count, 0);
  const since = sources.now() - VIOLATION_WINDOW_DAYS * DAY_MS;
  const switches = (await store.killSwitches.list(tenantId)).filter((entry) => entry.agentId === GLOBAL_KILL_AGENT || agentKeys.includes(entry.agentId));
  const latestSwitch = switches.sort((a, b) => b.updatedAt - a.updatedAt)[0];
  return {
    agent: {
      id: agent.id, name: agent.name, version: agent.version, status: agent.status,
      codeSha256: createHash('sha256').update(agent.entryCode).digest('hex'), config: agent.config, resolved: sandbox, credentialNames,
      secretsInCode: [...new Set(detectSecrets(agent.entryCode).map((finding) => finding.rule))],
    },
    credentials: {
      active: active.length, revoked: credentials.length - active.length,
      granted: credentialNames.map((name) => ({ name, stored: active.some((credential) => credential.name === name) })),
    },
    ledger: { records: await store.ledger.size(tenantId), agentRecords: counted(undefined, keys), checkpoint },
    immutability: { dialect: store.dialect, expected: EXPECTED_LEDGER_TRIGGERS[store.dialect], present: triggers },
    killSwitch: {
      haltedNow: sources.haltReason(tenantId, agent),
      agentEvents: counted(KILL_TYPES, keys),
      tenantEvents: counted(KILL_TYPES, undefined),
      lastEvent: latestSwitch ? {
        type: latestSwitch.halted ? 'kill_switch.engaged' : 'kill_switch.released', scope: latestSwitch.agentId === GLOBAL_KILL_AGENT ? 'global' : 'agent',
        reason: latestSwitch.reason, at: new Date(latestSwitch.updatedAt).toISOString(),
      } : null,
    },
    permissionRequests: {
      approved: counted(['permission_request.approved'], keys),
      denied: counted(['permission_request.denied'], keys),
      expired: counted(['permission_request.expired'], keys),
      pending: (await store.permissionRequests.list(tenantId, 'pending', 1000)).filter((request) => request.agentId === agent.id).length,
    },
    policy: policy ? policyFacts(policy, agentKeys) : null,
    holds: {
      approved: counted(['hold.approved'], undefined),
      denied: counted(['hold.denied'], undefined),
      expired: counted(['hold.expired'], undefined),
      pending: (await store.holds.list(tenantId, { status: 'pending', limit: 1000 })).length,
    },
    violations: {
      windowDays: VIOLATION_WINDOW_DAYS,
      agent: await countAgent(undefined, { violationsOnly: true, fromMs: since }),
      tenant: await store.ledger.count(tenantId, { violationsOnly: true, fromMs: since }),
    },
  };
}
