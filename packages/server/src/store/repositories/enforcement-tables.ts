import type { Generated } from 'kysely';

/** Kysely row types of migration 0002 (enforcement). JSON columns are TEXT; timestamps epoch ms. */
export interface PoliciesTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  latest_version: number;
  created_at: number;
  updated_at: number;
  created_by: string | null;
}

export interface PolicyVersionsTable {
  tenant_id: string;
  policy_id: string;
  version: number;
  source: string;
  source_hash: string;
  comment: string | null;
  created_at: number;
  created_by: string | null;
}

export interface PolicyActivationsTable {
  seq: Generated<number>;
  tenant_id: string;
  policy_id: string | null;
  version: number | null;
  /** `activate` | `rollback` | `deactivate`. */
  action: string;
  actor: string | null;
  created_at: number;
}

export interface DecisionsTable {
  seq: Generated<number>;
  id: string;
  tenant_id: string;
  ts: number;
  agent_id: string;
  user_id: string;
  session_id: string;
  tool_name: string;
  call_id: string | null;
  requested_mode: string;
  mode: string;
  decision: string;
  verdict: string;
  would_have_been: string | null;
  reason: string;
  violation_id: string | null;
  severity: string | null;
  hold_id: string | null;
  policy_id: string | null;
  policy_version: number | null;
  matched_rules: string;
  shadow: string;
  errors: string;
  arguments: string | null;
  approved_scope: string | null;
  context: string;
}

export interface ViolationsTable {
  seq: Generated<number>;
  id: string;
  tenant_id: string;
  decision_id: string;
  ts: number;
  agent_id: string;
  user_id: string;
  session_id: string;
  tool_name: string;
  decision: string;
  severity: string | null;
  reason: string;
  rule_ids: string;
}

export interface DecisionOutputsTable {
  seq: Generated<number>;
  tenant_id: string;
  decision_id: string;
  session_id: string;
  tool_name: string;
  ts: number;
  decision: string;
  reason: string;
  taints: string;
  /** Migration 0013; NULL for older rows whose agent could not be found. */
  agent_id: string | null;
}

export interface HoldsTable {
  id: string;
  tenant_id: string;
  decision_id: string;
  action_hash: string;
  agent_id: string;
  user_id: string;
  session_id: string;
  tool_name: string;
  arguments: string | null;
  reason: string;
  status: string;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  approver: string | null;
  comment: string | null;
  consumed_at: number | null;
}

export interface EnforcementSessionsTable {
  tenant_id: string;
  session_id: string;
  agent_id: string;
  state: string;
  updated_at: number;
}

/** Agent-wide call history of sequence conditions with `after.across: agent` (migration 0010). */
export interface EnforcementAgentHistoriesTable {
  tenant_id: string;
  agent_id: string;
  state: string;
  updated_at: number;
}

export interface KillSwitchesTable {
  tenant_id: string;
  /** `*` for the tenant-wide switch. */
  agent_id: string;
  halted: number;
  reason: string | null;
  actor: string | null;
  updated_at: number;
}

export interface RateLimitCountersTable {
  tenant_id: string;
  counter_key: string;
  count: number;
  expires_at: number;
}

declare module '../schema.js' {
  interface Database {
    policies: PoliciesTable;
    policy_versions: PolicyVersionsTable;
    policy_activations: PolicyActivationsTable;
    decisions: DecisionsTable;
    violations: ViolationsTable;
    decision_outputs: DecisionOutputsTable;
    holds: HoldsTable;
    enforcement_sessions: EnforcementSessionsTable;
    enforcement_agent_histories: EnforcementAgentHistoriesTable;
    kill_switches: KillSwitchesTable;
    rate_limit_counters: RateLimitCountersTable;
  }
}

/** Parses a JSON column; a damaged value comes back as the raw text rather than an exception. */
export function parseJsonColumn(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
