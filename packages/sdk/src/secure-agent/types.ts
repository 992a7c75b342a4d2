import type { PermissionScope } from './permission-presets.js';

export type SandboxTemplateName = 'STRICT' | 'STANDARD' | 'DEV';
export type ComplianceFramework = 'eu_ai_act' | 'soc2' | 'nist_ai_rmf';

/** Resource-limit overrides on top of the sandbox template. */
export interface SecureAgentLimits {
  maxMemoryMb?: number;
  maxExecutionTimeSec?: number;
  /** API calls (`http_request`, `read_context`) one run may make in total (`max_api_calls_per_run`). */
  maxApiCallsPerRun?: number;
  /**
   * API calls one run may make per sliding minute (`max_api_calls_per_minute`; server default 60, 1–100 000).
   * Past it a call fails in the guest with `RATE_LIMITED` and the run goes on. Separate from `maxApiCallsPerRun`,
   * which the seed's table names as the per-minute override.
   */
  maxApiCallsPerMinute?: number;
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

/**
 * What a permission request may ask for (the server's grantable AgentConfig fields); approval merges them into the
 * agent's config. `permissions`, `allowed_domains` and `credentials` add up; the others replace.
 *
 * @example
 * const ask: RequestedPermissions = { allow_network: true, allowed_domains: ['api.example.com'], max_api_calls_per_minute: 120 };
 */
export interface RequestedPermissions {
  allow_network?: boolean;
  /** The seed's flag; recorded on the request, grants nothing by itself. */
  allow_external_apis?: boolean;
  allow_filesystem?: boolean;
  max_api_calls_per_run?: number;
  max_api_calls_per_minute?: number;
  memory_limit_mb?: number;
  cpu_time_limit_ms?: number;
  allowed_domains?: readonly string[];
  permissions?: readonly (PermissionScope | string)[];
  credentials?: readonly string[];
  /** Other keys are sent as given; the server refuses unknown ones with `VALIDATION_FAILED`. */
  [key: string]: unknown;
}

export interface PermissionRequestOptions {
  permissions: RequestedPermissions;
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

/** Coverage of one control: the weakest of its checks decides. */
export type ComplianceControlStatus = 'covered' | 'partial' | 'gap';
/** The seed's labels: every control covered, no gap, at least one gap. */
export type ComplianceFrameworkLabel = 'MAPPED' | 'DOCUMENTED' | 'Gap identified';

/** One Tollgate check with the evidence it found on the server (counts and names, never secret values). */
export interface ComplianceCheckResult {
  id: string;
  title: string;
  status: 'pass' | 'partial' | 'fail';
  summary: string;
  evidence: Record<string, unknown>;
  remediation: string[];
}

export interface ComplianceControlResult {
  id: string;
  title: string;
  /** Article, criterion or subcategory, e.g. `Article 14(4)(e)`, `CC6.1`, `MANAGE 2.4`. */
  reference: string;
  status: ComplianceControlStatus;
  checks: ComplianceCheckResult[];
  /** Gap remediation steps. */
  remediation: string[];
}

/** The signed ledger checkpoint current at evaluation time (verify with `tollgate audit verify`). */
export interface ComplianceCheckpointEvidence {
  origin: string;
  tree_size: number;
  root_hash: string;
  note: string;
  public_key: string;
  created_at: string;
  signature_valid: boolean;
}

/** One framework's evaluation of the agent. */
export interface FrameworkComplianceResult {
  framework: ComplianceFramework;
  framework_name: string;
  source: string;
  label: ComplianceFrameworkLabel;
  coverage_percent: number;
  counts: { covered: number; partial: number; gap: number; total: number };
  controls: ComplianceControlResult[];
  ledger_checkpoint: ComplianceCheckpointEvidence | null;
  /** Ledger index of the `compliance.evaluated` record. */
  ledger_index: number | null;
  evaluated_at: string;
  /** True when the agent changed after this evaluation: call `evaluateCompliance()`. */
  stale: boolean;
  agent: { id: number; name: string; version: string; code_sha256: string; sandbox_template: string | null };
  disclaimer: string;
}

/** Result of `getComplianceStatus()` and `evaluateCompliance()`: audit-prepared evidence, not a certification. */
export interface ComplianceStatus {
  agent_id: number;
  agent_name: string;
  configured_frameworks: ComplianceFramework[];
  frameworks: Partial<Record<ComplianceFramework, FrameworkComplianceResult>>;
  evaluated_at: string;
  disclaimer: string;
}

/** How an auditor re-checks the ledger evidence. */
export interface ComplianceVerification {
  checkpoint: ComplianceCheckpointEvidence | null;
  evaluation_record_index: number | null;
  commands: string[];
}

/** `getEvidencePackage(framework, 'json')`. */
export interface ComplianceEvidencePackage {
  type: 'tollgate.compliance-evidence/v1';
  generated_at: string;
  disclaimer: string;
  framework: ComplianceFramework;
  framework_name: string;
  evaluation: FrameworkComplianceResult;
  verification: ComplianceVerification;
}

/** `exportComplianceReport('json')`: every configured framework. */
export interface ComplianceReport {
  type: 'tollgate.compliance-report/v1';
  generated_at: string;
  disclaimer: string;
  agent_id: number;
  agent_name: string;
  summary: Array<{ framework: ComplianceFramework; framework_name: string; label: ComplianceFrameworkLabel; coverage_percent: number; covered: number; partial: number; gap: number; total: number; evaluated_at: string; stale: boolean }>;
  frameworks: FrameworkComplianceResult[];
  verification: ComplianceVerification;
}

export type EvidencePackageFormat = 'markdown' | 'json';
export type ComplianceReportFormat = 'json' | 'markdown' | 'pdf';
