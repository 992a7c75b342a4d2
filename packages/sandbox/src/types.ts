import type { HostFunctionName } from './policy/permissions.js';
import type { ResolvedSandboxConfig } from './policy/templates.js';

/** Any value that survives `JSON.parse(JSON.stringify(x))` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Terminal state of one execution (the seed's `status`). */
export type ExecutionStatus = 'completed' | 'failed' | 'terminated' | 'timeout' | 'killed';

/** Stable codes in `ExecutionResult.error.code`. */
export type SandboxErrorCode =
  | 'GUEST_ERROR' // the entry code threw or rejected
  | 'GUEST_SYNTAX_ERROR' // the entry code does not parse
  | 'GUEST_DEADLOCK' // awaited a promise nothing can ever settle
  | 'STACK_OVERFLOW' // recursion past the stack limit
  | 'OUTPUT_NOT_JSON' // returned / written value is not JSON-serialisable
  | 'OUTPUT_TOO_LARGE'
  | 'TIMEOUT' // wall-clock deadline
  | 'MEMORY_LIMIT' // guest heap / WASM memory past the limit
  | 'HOST_CALL_LIMIT' // more host calls than `maxHostCallsPerRun` (log spam and the like)
  | 'KILLED' // kill(executionId, reason)
  | 'WORKER_CRASHED'; // the worker died (engine abort, host stack overflow, out of memory)

/** One structured log line written by the guest through `tollgate.log`. */
export interface LogEntry {
  /** Milliseconds since the execution started. */
  t_ms: number;
  level: 'info' | 'warn' | 'error' | 'debug';
  message: string;
}

/** One audited host call (the seed's `host_call_audit` item). */
export interface HostCallAuditEntry {
  fn: HostFunctionName | string;
  /** Short, secret-free description: method and URL without query for `http_request`, the key for `read_context`. */
  args_summary: string;
  allowed: boolean;
  duration_ms: number;
  /** Why the call was denied or failed: `scope_missing:network:outbound`, `network_disabled`, `quota_exceeded`, … */
  reason?: string;
  /** Milliseconds since the execution started. */
  t_ms: number;
}

/** A security-relevant event of the run, for the ledger (`is_violation: true`). */
export interface SandboxViolation {
  kind: 'permission_denied' | 'quota_exceeded' | 'rate_limit_hit' | 'domain_denied' | 'network_denied' | 'sandbox_limit_hit';
  fn?: string;
  reason: string;
  t_ms: number;
}

/** The seed's execution response shape (plus logs, violations and a stable error code). */
export interface ExecutionResult {
  execution_id: string | number;
  status: ExecutionStatus;
  output: JsonValue;
  logs: LogEntry[];
  resource_usage: {
    /** Time the guest spent running on its worker thread (excludes waiting for host calls). */
    cpu_ms: number;
    /** Peak guest memory (QuickJS heap, or WASM growth when larger), MB, one decimal. */
    memory_mb: number;
    /** Quota-counted host calls (`http_request`, `read_context`), allowed or not. */
    api_calls: number;
    /** Every host call including `log` and `write_result`. */
    host_calls: number;
    /** Wall-clock time from dispatch to result. */
    wall_ms: number;
  };
  host_call_audit: HostCallAuditEntry[];
  violations: SandboxViolation[];
  violation_count: number;
  was_terminated: boolean;
  error?: { code: SandboxErrorCode; message: string };
}

/** Arguments of `http_request` after validation (the guest's `(url, method?, headers?, body?)`). */
export interface HttpRequestArgs {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Strings pass through; other JSON bodies are serialised by the handler. */
  body: JsonValue | undefined;
}

/** What `http_request` resolves to in the guest. */
export interface HttpResponseData {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response is JSON, else text. */
  body: JsonValue;
}

/** Passed to every host handler. `signal` aborts when the run ends, times out or is killed. */
export interface HostCallContext {
  executionId: string | number;
  agentName: string;
  /** The run's resolved limits and grants (e.g. `allowed_domains` for the egress guard). */
  config: ResolvedSandboxConfig;
  signal: AbortSignal;
  /**
   * For `http_request`: report each redirect the handler follows (e.g. `guardedHttpRequest`'s `onRedirect`), so the
   * audit names every host the request reached, not only the one the guest asked for.
   */
  onRedirect?: (url: URL) => void;
}

/**
 * Host-side implementations supplied by the caller (the server). Absent handlers make the call fail with
 * `not_available`. A handler error reaches the guest as a plain `Error` with the handler error's `code` and
 * message only; the host object itself never crosses.
 */
export interface HostHandlers {
  http_request?: (request: HttpRequestArgs, context: HostCallContext) => Promise<HttpResponseData>;
  read_context?: (key: string, context: HostCallContext) => Promise<JsonValue | null>;
  /**
   * Masks what the handlers know to be secret (e.g. credential values they substituted) in text the broker records or
   * returns: redirect hops appended to the audit summary, handler error messages (returned to the guest, audited,
   * counted as violations). An upstream can put a header it was sent into a redirect's host or path.
   */
  redact?: (text: string) => string;
}

/** One execution request. */
export interface ExecutionRequest {
  /** Assigned by the caller (the server's execution record id); exposed to the guest as `executionId`. */
  executionId: string | number;
  agentName: string;
  agentVersion: string;
  /** JavaScript run as the body of an async function: top-level `await` and `return` work. */
  code: string;
  /** The run's input, global `input` in the guest. */
  input?: JsonValue;
  /** Limits and grants, usually from `resolveSandboxConfig`. */
  config: ResolvedSandboxConfig;
  handlers?: HostHandlers;
  /** Called for each audited host call as it happens (e.g. to stream it to the ledger / SSE). */
  onHostCall?: (entry: HostCallAuditEntry) => void;
  /**
   * Isolation domain, e.g. the tenant id: runs of different domains never share a worker thread or its WASM memory.
   * Default: one shared domain.
   */
  isolationKey?: string;
}
