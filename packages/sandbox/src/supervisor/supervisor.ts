import { TollgateError } from '@tollgate/core';
import { QUOTA_COUNTED_FUNCTIONS } from '../policy/permissions.js';
import { MAX_CPU_TIME_LIMIT_MS, MAX_MEMORY_LIMIT_MB } from '../policy/templates.js';
import type { ResolvedSandboxConfig } from '../policy/templates.js';
import type { ExecutionRequest, ExecutionResult } from '../types.js';
import type { DoneMessage, RunMessage, WorkerToParent } from '../worker/protocol.js';
import { ExecutionRun, toSandboxCode } from './execution-run.js';
import { brokerHostCall } from './host-call-broker.js';
import { assertWorkerEntryExists, defaultMaxRunningPerTenant, memoryBucketMb, resolveSupervisorOptions } from './options.js';
import type { ResolvedSupervisorOptions, SupervisorOptions } from './options.js';
import type { SandboxWorker } from './sandbox-worker.js';
import { WorkerPool } from './worker-pool.js';

/** How often the parent samples running workers' memory (the in-worker interrupt handler is the first line). */
const MEMORY_WATCH_MS = 25;

/**
 * Runs untrusted entry code in QuickJS (WASM) inside supervised worker threads: one fresh runtime and context per
 * execution, wall-clock deadline (in-engine interrupt plus a parent kill timer), memory limit (QuickJS limit, a
 * WASM memory maximum per worker, the interrupt handler and a parent watchdog), stack limit, host-call quota and
 * audit, and `kill` within ~`killGraceMs`.
 *
 * @example
 * const sandbox = new SandboxSupervisor();
 * await sandbox.start();
 * const result = await sandbox.execute({ executionId: 1, agentName: 'demo', agentVersion: '1.0.0',
 *   code: 'return { hello: input.name }', input: { name: 'Ada' }, config: resolveSandboxConfig({}) });
 * await sandbox.close();
 */
export class SandboxSupervisor {
  readonly options: ResolvedSupervisorOptions;
  private readonly pool: WorkerPool;
  private readonly running = new Map<string, ExecutionRun>();
  private memoryWatch: NodeJS.Timeout | undefined;
  private runCounter = 0;

  constructor(options: SupervisorOptions = {}) {
    this.options = resolveSupervisorOptions(options);
    const { workerEntry, maxWorkers, maxQueue, maxRunningPerTenant, maxQueuedPerTenant } = this.options;
    this.pool = new WorkerPool(workerEntry, maxWorkers, maxQueue, { maxRunningPerTenant, maxQueuedPerTenant });
  }

  /** Starts `warmWorkers` workers for the default 128 MB bucket so the first execution does not wait for one. */
  async start(): Promise<void> {
    assertWorkerEntryExists(this.options.workerEntry);
    await this.pool.warm(memoryBucketMb(128), this.options.warmWorkers);
  }

  /**
   * Changes the per-tenant cap on running executions at run time (e.g. when a second tenant is created): a number
   * (clamped to 1 … maxWorkers), or undefined (also 0, a negative number or NaN) for the default, half the workers
   * rounded up. Queued runs that now fit start at once.
   *
   * @example
   * supervisor.setMaxRunningPerTenant(supervisor.options.maxWorkers); // one tenant may use every worker
   */
  setMaxRunningPerTenant(limit: number | undefined): void {
    // `!(limit > 0)` and not `limit <= 0`: NaN must take the default too, never reach the pool as "no cap".
    this.pool.setMaxRunningPerTenant(limit === undefined || !(limit > 0) ? defaultMaxRunningPerTenant(this.options.maxWorkers) : limit);
  }

  /** The per-tenant cap on running executions in force now. */
  get maxRunningPerTenant(): number { return this.pool.runningLimitPerTenant; }

  /** Executions in flight (started or queued). */
  get activeCount(): number { return this.running.size; }

  /** Number of live worker threads. */
  get workerCount(): number { return this.pool.size; }

  /**
   * Runs one execution to its end and resolves with the seed's result shape; never rejects for anything the guest
   * does. Rejects with `VALIDATION_FAILED` for a bad request, `CONFLICT` for a duplicate running execution id and
   * `UNAVAILABLE` when closed, or when the queue or the tenant's share of it (`maxQueuedPerTenant`) is full. A tenant
   * running `maxRunningPerTenant` executions queues its next ones without holding up other tenants'.
   */
  async execute(request: ExecutionRequest): Promise<ExecutionResult> {
    const inputJson = this.validate(request);
    const key = String(request.executionId);
    if (this.running.has(key)) throw new TollgateError('CONFLICT', `execution ${key} is already running`);
    const run = new ExecutionRun(request, this.options);
    this.running.set(key, run);
    try {
      const limitMb = request.config.memory_limit_mb;
      const need = { bucketMb: memoryBucketMb(limitMb), limitBytes: limitMb * 1048576, isolationKey: request.isolationKey ?? '' };
      // A run killed while queued leaves the queue at once (its tenant's queue place is free again) and one killed
      // while its worker starts does not wait for it; either way the caller gets the killed result, not an error.
      const acquiring = this.pool.acquire(need, run.abort.signal);
      const worker = await Promise.race([acquiring, run.done().then(() => undefined)]).catch((error: unknown) => {
        if (run.settled) return undefined;
        throw error;
      });
      if (worker === undefined) {
        acquiring.then((late) => this.pool.release(late), () => { /* the run is already settled */ });
      } else if (run.settled) {
        this.pool.release(worker);
      } else {
        this.attach(run, worker, inputJson);
      }
      return await run.done();
    } finally {
      this.running.delete(key);
      this.stopWatchIfIdle();
    }
  }

  /**
   * Stops a running (or queued) execution: its result resolves at once with status `killed` and `reason`; the worker
   * is asked to stop and terminated if it has not within `killGraceMs`. Returns false when nothing was running.
   */
  kill(executionId: string | number, reason = 'killed'): boolean {
    const run = this.running.get(String(executionId));
    if (!run || run.settled) return false;
    run.settle('KILLED', `execution was killed: ${reason}`);
    return true;
  }

  /** Kills every execution (global kill switch). Returns how many were stopped. */
  killAll(reason = 'global kill switch'): number {
    let count = 0;
    for (const id of [...this.running.keys()]) if (this.kill(id, reason)) count += 1;
    return count;
  }

  /** Kills everything and terminates all workers. */
  async close(): Promise<void> {
    this.killAll('sandbox supervisor closed');
    clearInterval(this.memoryWatch);
    this.memoryWatch = undefined;
    await this.pool.close();
  }

  private validate(request: ExecutionRequest): string {
    const config = request.config as Partial<ResolvedSandboxConfig> | undefined;
    const inRange = (value: unknown, max: number): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= max;
    if (!config || !inRange(config.memory_limit_mb, MAX_MEMORY_LIMIT_MB) || !inRange(config.cpu_time_limit_ms, MAX_CPU_TIME_LIMIT_MS)
      || !Array.isArray(config.permissions) || !Array.isArray(config.allowed_domains)) {
      throw new TollgateError('VALIDATION_FAILED', 'config must come from resolveSandboxConfig()');
    }
    if (typeof request.code !== 'string' || request.code.length > this.options.maxCodeChars) {
      throw new TollgateError('VALIDATION_FAILED', `code must be a string of at most ${this.options.maxCodeChars} characters`);
    }
    let inputJson: string | undefined;
    try { inputJson = JSON.stringify(request.input ?? null); } catch { inputJson = undefined; }
    if (inputJson === undefined || inputJson.length > this.options.maxInputBytes) {
      throw new TollgateError('VALIDATION_FAILED', `input must be JSON of at most ${this.options.maxInputBytes} bytes`);
    }
    return inputJson;
  }

  private attach(run: ExecutionRun, worker: SandboxWorker, inputJson: string): void {
    const { request, options } = run;
    const timeoutMs = request.config.cpu_time_limit_ms;
    const message = buildRunMessage(run, ++this.runCounter, inputJson);
    let workerDone = false;
    const finishWorker = (retire: boolean): void => {
      if (workerDone) return;
      workerDone = true;
      clearTimeout(deadlineTimer);
      if (retire) this.pool.discard(worker);
      else this.pool.release(worker);
    };
    const deadlineTimer = setTimeout(() => {
      run.settle('TIMEOUT', `execution exceeded ${timeoutMs} ms (worker did not stop by itself and was terminated)`);
      finishWorker(true);
    }, timeoutMs + options.deadlineGraceMs);
    worker.onExit = () => {
      run.settle('WORKER_CRASHED', 'the sandbox worker died and was replaced');
      finishWorker(true);
    };
    worker.onMessage = (msg) => this.onWorkerMessage(run, worker, message.runId, msg, finishWorker);
    void run.done().then(() => {
      if (workerDone) return;
      // Settled from the parent side (kill, host-call limit): stop the guest, and terminate it if it does not stop.
      worker.requestAbort();
      worker.post({ type: 'abort', runId: message.runId });
      setTimeout(() => finishWorker(true), options.killGraceMs).unref();
    });
    run.memoryCheck = () => {
      if (worker.wasmMb() * 1048576 > worker.baselineBytes + message.limits.memoryBytes + 16 * 1048576) {
        run.settle('MEMORY_LIMIT', `memory limit of ${request.config.memory_limit_mb} MB exceeded`);
        finishWorker(true);
      }
    };
    this.startWatch();
    worker.post(message);
  }

  private onWorkerMessage(run: ExecutionRun, worker: SandboxWorker, runId: number, msg: WorkerToParent, finishWorker: (retire: boolean) => void): void {
    if (msg.type === 'ready' || msg.runId !== runId) return;
    if (msg.type === 'done') return this.onDone(run, msg, finishWorker);
    if (run.settled) return;
    run.hostCalls += 1;
    if (run.hostCalls > this.options.maxHostCallsPerRun) {
      run.settle('HOST_CALL_LIMIT', `more than ${this.options.maxHostCallsPerRun} host calls`);
      return;
    }
    if (msg.type === 'log') {
      run.addLog({ t_ms: msg.tMs, level: msg.level, message: msg.message });
      run.recordAudit({ fn: 'log', args_summary: `${msg.level}, ${msg.message.length} chars`, allowed: true, duration_ms: 0, t_ms: msg.tMs });
    } else if (msg.type === 'write_result') {
      run.recordWrite(msg.json);
      run.recordAudit({ fn: 'write_result', args_summary: `${msg.json.length} bytes`, allowed: true, duration_ms: 0, t_ms: msg.tMs });
    } else if (msg.type === 'host_call_refused') {
      if ((QUOTA_COUNTED_FUNCTIONS as ReadonlySet<string>).has(msg.fn)) run.apiCalls += 1;
      run.recordAudit({ fn: msg.fn, args_summary: msg.summary, allowed: false, duration_ms: 0, reason: 'invalid_arguments', t_ms: msg.tMs });
    } else if (msg.type === 'host_call') {
      void brokerHostCall(run, msg.fn, msg.argsJson, msg.tMs).then((reply) => {
        if (!run.settled) worker.post({ type: 'host_result', runId, callId: msg.callId, reply });
      });
    }
  }

  private onDone(run: ExecutionRun, msg: DoneMessage, finishWorker: (retire: boolean) => void): void {
    run.cpuMs = msg.cpuMs;
    run.peakMemoryBytes = msg.peakMemoryBytes;
    if (msg.outcome.kind === 'completed') run.settle(null, '', msg.outcome.returnJson);
    else run.settle(toSandboxCode(msg.outcome.code), msg.outcome.message, null, msg.limitHitMs);
    finishWorker(msg.retire);
  }

  private startWatch(): void {
    if (this.memoryWatch) return;
    this.memoryWatch = setInterval(() => {
      for (const run of this.running.values()) run.memoryCheck?.();
    }, MEMORY_WATCH_MS);
    this.memoryWatch.unref();
  }

  private stopWatchIfIdle(): void {
    if (this.running.size > 0 || !this.memoryWatch) return;
    clearInterval(this.memoryWatch);
    this.memoryWatch = undefined;
  }
}

function buildRunMessage(run: ExecutionRun, runId: number, inputJson: string): RunMessage {
  const { request, options } = run;
  return {
    type: 'run',
    runId,
    code: request.code,
    inputJson,
    metaJson: JSON.stringify({ agentName: request.agentName, agentVersion: request.agentVersion, executionId: request.executionId }),
    limits: {
      memoryBytes: request.config.memory_limit_mb * 1048576,
      stackBytes: options.stackSizeBytes,
      timeoutMs: request.config.cpu_time_limit_ms,
      maxOutputBytes: options.maxOutputBytes,
      maxLogEntries: options.maxLogEntries,
      maxLogMessageChars: options.maxLogMessageChars,
      maxTimers: options.maxTimers,
    },
  };
}
