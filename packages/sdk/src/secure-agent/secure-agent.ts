import { resolveApiKey, resolveBaseUrl, toRestConfig, DEFAULT_AGENT_NAME, DEFAULT_AGENT_VERSION } from './agent-config.js';
import { DEFAULT_STREAM_SETTLE_MS, openAuditStream, type AuditEventHandler, type AuditStreamHandle, type AuditStreamOptions, type TrackedAuditStream } from './audit-stream.js';
import { complianceReport, complianceStatus, evaluateComplianceNow, evidencePackage } from './compliance.js';
import { HttpClient } from './http-client.js';
import { PERMISSION_PRESETS } from './permission-presets.js';
import { DEFAULT_PERMISSION_TIMEOUT_MS, PERMISSION_REQUESTS_PATH, waitForDecision } from './permission-wait.js';
import { SDKError } from './sdk-error.js';
import type {
  AgentRecord, AuditLogQuery, ComplianceEvidencePackage, ComplianceFramework, ComplianceReport, ComplianceReportFormat,
  ComplianceStatus, CredentialInput, CredentialRecord, EvidencePackageFormat, ExecutionResponse, ExecutionResult,
  PermissionRequestOptions, PermissionRequestRecord, RunInput, SecureAgentOptions,
} from './types.js';

export const AGENTS_PATH = '/api/v1/sdk/agents';
export const EXECUTIONS_PATH = '/api/v1/sdk/executions';
export const CREDENTIALS_PATH = '/api/v1/sdk/credentials';
/** Audit routes of the ledger area that the audit methods call. */
export const AUDIT_PATHS = {
  query: '/api/v1/audit/records',
  verify: (recordId: number | string) => `/api/v1/audit/records/${encodeURIComponent(String(recordId))}/verify`,
  export: '/api/v1/audit/export',
} as const;

/**
 * Client for sandboxed, governed agents (the seed's `SecureAgent`), talking to a Tollgate server.
 *
 * @example
 * const agent = new SecureAgent({ apiKey: 'tg_live_…', permissions: SecureAgent.permissions.CODER, sandbox: 'STANDARD' });
 * await agent.configure();
 * const result = await agent.run({ task: 'Summarise', data: { rows } });
 */
export class SecureAgent {
  /** Permission presets (`READONLY`, `WRITER`, `RESEARCHER`, `CODER`, `ANALYST`, `FULL`). */
  static readonly permissions = PERMISSION_PRESETS;

  private readonly options: SecureAgentOptions;
  private readonly http: HttpClient;
  private resolvedAgentId: number | string | undefined;
  /** Audit streams opened by this instance and not closed yet (see `run()`). */
  private readonly streams = new Set<TrackedAuditStream>();

  constructor(options: SecureAgentOptions = {}) {
    this.options = { ...options };
    this.http = new HttpClient({ baseUrl: resolveBaseUrl(options), apiKey: resolveApiKey(options), fetch: options.fetch, timeoutMs: options.timeoutMs });
    this.resolvedAgentId = options.agentId;
    toRestConfig(options); // validate options now rather than at configure()
  }

  /** Server agent id, once known. */
  get agentId(): number | string | undefined {
    return this.resolvedAgentId;
  }

  /** Server base URL in use. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /**
   * Registers (upserts by name) or updates the agent with the template, limits and permission scopes.
   * Safe to call repeatedly. With `compliance` codes it also evaluates them (the seed: "evaluates immediately").
   */
  async configure(): Promise<this> {
    const config = toRestConfig(this.options);
    const body: Record<string, unknown> = { config, status: 'ready' };
    if (this.options.entryCode !== undefined) body.entry_code = this.options.entryCode;
    if (this.options.version !== undefined) body.version = this.options.version;
    if (this.resolvedAgentId !== undefined) {
      await this.http.json<{ agent: AgentRecord }>('PATCH', this.agentPath(), { body });
      return this.evaluateConfiguredCompliance();
    }
    body.name = this.options.name ?? DEFAULT_AGENT_NAME;
    body.version ??= DEFAULT_AGENT_VERSION;
    const answer = await this.http.json<{ success: boolean; agent: AgentRecord }>('POST', AGENTS_PATH, { body });
    this.resolvedAgentId = answer.agent.id;
    return this.evaluateConfiguredCompliance();
  }

  private async evaluateConfiguredCompliance(): Promise<this> {
    if ((this.options.compliance?.length ?? 0) > 0) await evaluateComplianceNow(this.http, this.agentPath());
    return this;
  }

  /**
   * Runs the agent synchronously in the sandbox; `input` reaches the code as `input`. Configures first if needed.
   * Audit streams this instance has open are awaited (each at most `DEFAULT_STREAM_SETTLE_MS`): connected before
   * the run starts, and holding the run's records before `run()` returns.
   */
  async run(input: RunInput): Promise<ExecutionResult> {
    if (input === null || typeof input !== 'object' || typeof input.task !== 'string') {
      throw new SDKError('INVALID_OPTIONS', 'run(input) needs { task: string, data?, model? }');
    }
    if (this.resolvedAgentId === undefined) await this.configure();
    // The seed opens a stream, awaits run() and closes the stream at once; the run's records must be in it by then.
    const streams = [...this.streams];
    await Promise.all(streams.map((stream) => stream.whenConnected(DEFAULT_STREAM_SETTLE_MS)));
    const started = Date.now();
    const answer = await this.http.json<ExecutionResponse>('POST', `${this.agentPath()}/execute`, { body: { input } });
    const elapsedMs = Date.now() - started;
    const following = streams.filter((stream) => stream.follows(answer.execution_id, this.resolvedAgentId));
    await Promise.all(following.map((stream) => stream.whenExecutionRecorded(answer.execution_id, DEFAULT_STREAM_SETTLE_MS)));
    return this.toResult(answer, elapsedMs);
  }

  /** Kills the agent now (its running execution included) and refuses new runs; the reason goes to the ledger. */
  async stop(reason?: string): Promise<unknown> {
    const id = this.requireAgentId();
    return this.http.json('POST', `/api/sdk/agents/${encodeURIComponent(String(id))}/kill`, { body: { reason: reason ?? 'Stopped from SecureAgent.stop()' } });
  }

  /** Queries the audit trail for this agent (oldest first). */
  async getAuditLog(query: AuditLogQuery = {}): Promise<unknown> {
    return this.http.json('GET', AUDIT_PATHS.query, { query: this.auditQuery(query) });
  }

  /** Verifies one audit record: inclusion proof against the latest signed checkpoint. */
  async verifyAuditRecord(recordId: number | string): Promise<unknown> {
    return this.http.json('GET', AUDIT_PATHS.verify(recordId));
  }

  /** Exports the audit trail: `'json'` and `'summary'` parsed, `'csv'` as text. */
  async exportAuditLog(format: 'json' | 'csv' | 'summary', query: AuditLogQuery = {}): Promise<unknown> {
    const response = await this.http.send('GET', AUDIT_PATHS.export, { query: { ...this.auditQuery(query), format } });
    const text = await response.text();
    return format === 'csv' ? text : JSON.parse(text);
  }

  /** Live audit events over SSE; reconnects with `Last-Event-ID`. Defaults to this agent's events. */
  streamAuditLog(options: AuditStreamOptions, onEvent: AuditEventHandler): AuditStreamHandle {
    const scoped = options.executionId === undefined && options.agentId === undefined && this.resolvedAgentId !== undefined
      ? { ...options, agentId: this.resolvedAgentId }
      : options;
    const stream = openAuditStream(this.http, scoped, onEvent);
    this.streams.add(stream);
    void stream.closed.then(() => this.streams.delete(stream));
    return stream;
  }

  /** Encrypts and stores a credential (AES-256-GCM on the server). The value is never returned. */
  async storeCredential(credential: CredentialInput): Promise<CredentialRecord> {
    return this.http.json<CredentialRecord>('POST', CREDENTIALS_PATH, { body: credential });
  }

  /** Revokes the old credential and stores the new value under the same name, in one transaction. */
  async rotateCredential(credentialId: number | string, newValue: string): Promise<CredentialRecord> {
    return this.http.json<CredentialRecord>('POST', `${CREDENTIALS_PATH}/${encodeURIComponent(String(credentialId))}/rotate`, { body: { value: newValue } });
  }

  /** Asks the owner for more permissions and waits for the decision (see `waitForDecision` for the error codes). */
  async requestPermission(options: PermissionRequestOptions): Promise<PermissionRequestRecord> {
    if (this.resolvedAgentId === undefined) await this.configure();
    const timeoutMs = options.timeoutMs ?? DEFAULT_PERMISSION_TIMEOUT_MS;
    const created = await this.http.json<PermissionRequestRecord>('POST', PERMISSION_REQUESTS_PATH, {
      body: { agent_id: Number(this.requireAgentId()), permissions: options.permissions, justification: options.justification, timeout_ms: timeoutMs },
    });
    return waitForDecision(this.http, created, timeoutMs);
  }

  /** Server-signed statement about an execution (hashes, config, ledger index). `tee_mode` is always `'none'`. */
  async verifyExecution(executionId: number | string): Promise<Record<string, unknown>> {
    return this.http.json('GET', `${EXECUTIONS_PATH}/${encodeURIComponent(String(executionId))}/verify`);
  }

  /**
   * Cached compliance evaluation per configured framework (per-control coverage, evidence, gap remediation).
   * Audit-prepared evidence, not a certification or compliance score.
   */
  async getComplianceStatus(): Promise<ComplianceStatus> {
    if (this.resolvedAgentId === undefined) await this.configure();
    return complianceStatus(this.http, this.agentPath());
  }

  /** Re-runs every configured framework and refreshes the cache (use after changing the sandbox or permissions). */
  async evaluateCompliance(): Promise<ComplianceStatus> {
    if (this.resolvedAgentId === undefined) await this.configure();
    return evaluateComplianceNow(this.http, this.agentPath());
  }

  /** Controls-mapped evidence package of one framework: Markdown (default) or the JSON package. */
  async getEvidencePackage(framework: ComplianceFramework, format?: 'markdown'): Promise<string>;
  async getEvidencePackage(framework: ComplianceFramework, format: 'json'): Promise<ComplianceEvidencePackage>;
  async getEvidencePackage(framework: ComplianceFramework, format: EvidencePackageFormat = 'markdown'): Promise<string | ComplianceEvidencePackage> {
    if (this.resolvedAgentId === undefined) await this.configure();
    return evidencePackage(this.http, this.agentPath(), framework, format);
  }

  /** Coverage report over every configured framework: JSON (default), Markdown text or PDF bytes. */
  async exportComplianceReport(format?: 'json'): Promise<ComplianceReport>;
  async exportComplianceReport(format: 'markdown'): Promise<string>;
  async exportComplianceReport(format: 'pdf'): Promise<Uint8Array>;
  async exportComplianceReport(format: ComplianceReportFormat = 'json'): Promise<ComplianceReport | string | Uint8Array> {
    if (this.resolvedAgentId === undefined) await this.configure();
    return complianceReport(this.http, this.agentPath(), format);
  }

  private requireAgentId(): number | string {
    if (this.resolvedAgentId === undefined) {
      throw new SDKError('NOT_CONFIGURED', 'no agent id yet: call configure() first or pass agentId');
    }
    return this.resolvedAgentId;
  }

  private agentPath(): string {
    return `${AGENTS_PATH}/${encodeURIComponent(String(this.requireAgentId()))}`;
  }

  private auditQuery(query: AuditLogQuery): Record<string, string | number | boolean | readonly string[] | undefined> {
    return {
      agentId: this.resolvedAgentId === undefined ? undefined : String(this.resolvedAgentId),
      executionId: query.executionId === undefined ? undefined : String(query.executionId),
      from: query.from, to: query.to, actionTypes: query.actionTypes,
      violationsOnly: query.violationsOnly, limit: query.limit,
    };
  }

  private toResult(answer: ExecutionResponse, elapsedMs: number): ExecutionResult {
    const usage = answer.resource_usage ?? {};
    return {
      executionId: answer.execution_id,
      status: answer.status,
      output: answer.output,
      durationMs: typeof usage.wall_ms === 'number' ? usage.wall_ms : elapsedMs,
      costTfuel: 0,
      auditTrailUrl: this.http.url(`${this.agentPath()}/executions/${answer.execution_id}`),
      resourceUsage: usage,
      hostCallAudit: answer.host_call_audit ?? [],
      violationCount: answer.violation_count ?? 0,
      wasTerminated: answer.was_terminated ?? false,
      error: answer.error ?? null,
    };
  }
}
