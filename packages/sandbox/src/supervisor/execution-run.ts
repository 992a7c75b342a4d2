import type {
  ExecutionRequest, ExecutionResult, ExecutionStatus, HostCallAuditEntry, JsonValue, LogEntry, SandboxErrorCode,
  SandboxViolation,
} from '../types.js';
import type { ResolvedSupervisorOptions } from './options.js';

const STATUS_BY_CODE: Record<SandboxErrorCode, ExecutionStatus> = {
  GUEST_ERROR: 'failed',
  GUEST_SYNTAX_ERROR: 'failed',
  GUEST_DEADLOCK: 'failed',
  STACK_OVERFLOW: 'failed',
  OUTPUT_NOT_JSON: 'failed',
  OUTPUT_TOO_LARGE: 'failed',
  TIMEOUT: 'timeout',
  MEMORY_LIMIT: 'terminated',
  HOST_CALL_LIMIT: 'terminated',
  WORKER_CRASHED: 'terminated',
  KILLED: 'killed',
};
const LIMIT_CODES = new Set<SandboxErrorCode>(['TIMEOUT', 'MEMORY_LIMIT', 'HOST_CALL_LIMIT', 'STACK_OVERFLOW']);

/** Maps a worker-reported code to a known one (the worker is trusted code, but never trust a string blindly). */
export function toSandboxCode(code: string): SandboxErrorCode {
  return Object.prototype.hasOwnProperty.call(STATUS_BY_CODE, code) ? (code as SandboxErrorCode) : 'WORKER_CRASHED';
}

/**
 * Parent-side record of one execution: everything the guest reported so far, so a run that is killed or whose
 * worker dies still returns its logs and audit. `settle` produces the result exactly once.
 */
export class ExecutionRun {
  readonly request: ExecutionRequest;
  readonly options: ResolvedSupervisorOptions;
  readonly abort = new AbortController();
  readonly startedAt = performance.now();
  readonly logs: LogEntry[] = [];
  readonly audit: HostCallAuditEntry[] = [];
  readonly violations: SandboxViolation[] = [];
  apiCalls = 0;
  /** Start times (ms since the run began) of the quota-counted calls inside the current rate window. */
  readonly apiCallTimes: number[] = [];
  hostCalls = 0;
  droppedLogs = 0;
  cpuMs = 0;
  peakMemoryBytes = 0;
  /** Set while attached to a worker: the parent-side memory watchdog for this run. */
  memoryCheck: (() => void) | undefined;
  /** Host calls handed to a handler and not yet answered, by broker token (recorded at settle if still open). */
  private readonly inFlight = new Map<number, { entry: Omit<HostCallAuditEntry, 'allowed' | 'duration_ms'>; started: number }>();
  private nextCallToken = 1;
  private written: { json: string } | undefined;
  private result: ExecutionResult | undefined;
  private readonly waiters: Array<(result: ExecutionResult) => void> = [];

  constructor(request: ExecutionRequest, options: ResolvedSupervisorOptions) {
    this.request = request;
    this.options = options;
  }

  get settled(): boolean { return this.result !== undefined; }
  elapsedMs(): number { return Math.round((performance.now() - this.startedAt) * 10) / 10; }

  /** Resolves with the result once the run settles. */
  done(): Promise<ExecutionResult> {
    if (this.result) return Promise.resolve(this.result);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  addLog(entry: LogEntry): void {
    if (this.logs.length < this.options.maxLogEntries) this.logs.push(entry);
    else this.droppedLogs += 1;
  }

  recordWrite(json: string): void { this.written = { json }; }

  recordAudit(entry: HostCallAuditEntry): void {
    this.audit.push(entry);
    try {
      this.request.onHostCall?.(entry);
    } catch {
      // A failing observer must not change the run's outcome.
    }
  }

  /**
   * Notes a host call that passed every check and is about to reach its handler; returns the token for
   * {@link endCall}. A call still open when the run settles is recorded then, so a request that already left (a POST
   * to the network, say) appears in the result's audit and reaches `onHostCall` before the result does.
   */
  beginCall(entry: Omit<HostCallAuditEntry, 'allowed' | 'duration_ms'>, started: number): number {
    const token = this.nextCallToken++;
    this.inFlight.set(token, { entry, started });
    return token;
  }

  /** Closes a call opened by {@link beginCall}; false when settling the run already recorded it. */
  endCall(token: number): boolean {
    return this.inFlight.delete(token);
  }

  addViolation(violation: SandboxViolation): void { this.violations.push(violation); }

  /**
   * Settles the run: `returnJson` (entry's return value) wins over the last `write_result`. `limitHitMs` dates the
   * limit violation at the moment the worker detected it (so `wall_ms - t_ms` is the time it took to stop).
   */
  settle(code: SandboxErrorCode | null, message: string, returnJson: string | null = null, limitHitMs?: number): ExecutionResult {
    if (this.result) return this.result;
    this.abort.abort();
    const status: ExecutionStatus = code === null ? 'completed' : STATUS_BY_CODE[code];
    if (code !== null && LIMIT_CODES.has(code)) {
      this.addViolation({ kind: 'sandbox_limit_hit', reason: code.toLowerCase(), t_ms: limitHitMs ?? this.elapsedMs() });
    }
    for (const { entry, started } of this.inFlight.values()) {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      this.recordAudit({ ...entry, allowed: true, duration_ms: durationMs, reason: 'unfinished: the run ended while the call was in flight' });
    }
    this.inFlight.clear();
    if (this.droppedLogs > 0) {
      this.logs.push({ t_ms: this.elapsedMs(), level: 'warn', message: `${this.droppedLogs} log lines dropped (limit ${this.options.maxLogEntries})` });
    }
    const result: ExecutionResult = {
      execution_id: this.request.executionId,
      status,
      output: this.output(returnJson),
      // Copies: host calls that finish after a kill are still reported to onHostCall, but never change a result
      // the caller already holds.
      logs: [...this.logs],
      resource_usage: {
        cpu_ms: Math.round(this.cpuMs * 100) / 100,
        memory_mb: Math.round((this.peakMemoryBytes / 1048576) * 10) / 10,
        api_calls: this.apiCalls,
        host_calls: this.hostCalls,
        wall_ms: this.elapsedMs(),
      },
      host_call_audit: [...this.audit],
      violations: [...this.violations],
      violation_count: this.violations.length,
      was_terminated: status === 'terminated' || status === 'timeout' || status === 'killed',
    };
    if (code !== null) result.error = { code, message };
    this.result = result;
    for (const waiter of this.waiters.splice(0)) waiter(result);
    return result;
  }

  private output(returnJson: string | null): JsonValue {
    const json = returnJson ?? this.written?.json;
    if (json === undefined) return null;
    try {
      return JSON.parse(json) as JsonValue;
    } catch {
      return null;
    }
  }
}
