import type { PermissionScope } from './permission-presets.js';

export type SandboxTemplateName = 'STRICT' | 'STANDARD' | 'DEV';
export type ComplianceFramework = 'eu_ai_act' | 'soc2' | 'nist_ai_rmf';

/** Resource-limit overrides on top of the sandbox template. */
export interface SecureAgentLimits {
  maxMemoryMb?: number;
  maxExecutionTimeSec?: number;
  maxApiCallsPerRun?: number;
}

/**
 * Options of `new SecureAgent(opts)`. Seed fields plus where to find the server and what code to run.
 *
 * @example
 * new SecureAgent({ apiKey: process.env.TOLLGATE_API_KEY, name: 'churn', sandbox: 'STRICT',
 *                   entryCode: 'return { rows: input.data.users.length };' });
 */
export interface SecureAgentOptions {
  /** API key (`tg_live_…`; seed-style `tzk_…` values are sent unchanged). Falls back to `TOLLGATE_API_KEY`. */
  apiKey?: string;
  /** Server agent id. Resolved by `configure()` (upsert by `name`) when omitted. */
  agentId?: number | string;
  /** Agent name used for the upsert. Default `DEFAULT_AGENT_NAME`. */
  name?: string;
  version?: string;
  /** JavaScript run in the sandbox. A new agent without it gets the server's echo placeholder. */
  entryCode?: string;
  /** Scope array. Default `SecureAgent.permissions.READONLY`. */
  permissions?: readonly (PermissionScope | string)[];
  limits?: SecureAgentLimits;
  /** Template. Default `'STANDARD'`. */
  sandbox?: SandboxTemplateName;
  compliance?: readonly ComplianceFramework[];
  /** Further AgentConfig fields in the REST shape, e.g. `{ allowed_domains: ['api.example.com'] }`. */
  config?: Record<string, unknown>;
  /** Server base URL. Default: `TOLLGATE_API_URL`, else `DEFAULT_API_URL`. `apiUrl` is an alias. */
  baseUrl?: string;
  apiUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
}

/** Agent record as the REST API returns it. */
export interface AgentRecord {
  id: number;
  name: string;
  version: string;
  status: string;
  config: Record<string, unknown>;
  entry_code?: string;
  created_at?: string;
  updated_at?: string;
}

export interface HostCallAuditEntry {
  fn: string;
  allowed: boolean;
  duration_ms: number;
  args?: unknown;
  reason?: string;
}

/** The seed's execution response (`POST /api/v1/sdk/agents/:id/execute`). */
export interface ExecutionResponse {
  execution_id: number;
  status: string;
  output: unknown;
  resource_usage: Record<string, number>;
  host_call_audit: HostCallAuditEntry[];
  violation_count: number;
  was_terminated: boolean;
  /** Present only when the run did not complete. */
  error?: { code: string; message: string } | null;
}

/** Input of `agent.run()`; sent to the agent code as `input`. */
export interface RunInput {
  task: string;
  data?: unknown;
  model?: string;
}

/** Result of `agent.run()`. */
export interface ExecutionResult {
  executionId: number;
  status: string;
  output: unknown;
  durationMs: number;
  /** Always 0: Tollgate runs on your own machines and bills nothing. */
  costTfuel: number;
  auditTrailUrl: string;
  resourceUsage: Record<string, number>;
  hostCallAudit: HostCallAuditEntry[];
  violationCount: number;
  wasTerminated: boolean;
  error: { code: string; message: string } | null;
}

export interface AuditLogQuery {
  from?: string;
  to?: string;
  actionTypes?: readonly string[];
  violationsOnly?: boolean;
  limit?: number;
  executionId?: number | string;
}

export interface PermissionRequestOptions {
  permissions: Record<string, unknown>;
  justification?: string;
  /** How long the owner has to decide. Default 180 000 (3 min). */
  timeoutMs?: number;
}

export interface PermissionRequestRecord {
  id: number;
  agent_id: number;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  permissions: Record<string, unknown>;
  justification: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  comment: string | null;
}

export interface CredentialInput {
  name: string;
  value: string;
  type?: string;
  description?: string;
}

/** Credential metadata; the value never comes back after creation. */
export interface CredentialRecord {
  id: number;
  name: string;
  type: string;
  description: string | null;
  status: 'active' | 'revoked';
  created_at: string;
  revoked_at: string | null;
  rotated_from: number | null;
}
