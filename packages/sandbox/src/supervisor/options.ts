import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TollgateError } from '@tollgate/core';

/** Tunables of {@link SandboxSupervisor}; every field has a `DEFAULT_*` below. */
export interface SupervisorOptions {
  /** Upper bound on worker threads (each runs one execution at a time). */
  maxWorkers?: number;
  /** Executions that may wait for a free worker before `execute` rejects with `UNAVAILABLE`. */
  maxQueue?: number;
  /**
   * Executions one isolation domain (tenant, `ExecutionRequest.isolationKey`) may run at once; its further
   * executions wait without holding up other tenants'. 0 or unset: half the workers, rounded up (all of a pool of
   * one); larger than `maxWorkers` means `maxWorkers`.
   *
   * @example
   * new SandboxSupervisor({ maxWorkers: 8, maxRunningPerTenant: 2 }); // one tenant never holds more than 2 workers
   */
  maxRunningPerTenant?: number;
  /**
   * Queue places one isolation domain may hold; past it its executions get `UNAVAILABLE` while other tenants can
   * still queue. 0 or unset: half of `maxQueue`, rounded up; larger than `maxQueue` means `maxQueue`.
   *
   * @example
   * new SandboxSupervisor({ maxQueue: 256, maxQueuedPerTenant: 64 }); // four tenants to fill the queue
   */
  maxQueuedPerTenant?: number;
  /** QuickJS `setMaxStackSize` in bytes. */
  stackSizeBytes?: number;
  /** Largest JSON (returned value or `write_result`) accepted from the guest. */
  maxOutputBytes?: number;
  /** Largest entry code accepted. */
  maxCodeChars?: number;
  /** Largest serialised input accepted. */
  maxInputBytes?: number;
  /** Log lines kept per run; later lines are counted but dropped. */
  maxLogEntries?: number;
  maxLogMessageChars?: number;
  /** Every host call (including `log`) per run; past it the run is terminated (`HOST_CALL_LIMIT`). */
  maxHostCallsPerRun?: number;
  /** Largest serialised host-handler reply handed to the guest. */
  maxHostResponseBytes?: number;
  /** Pending guest timers (`setTimeout`/`setInterval`) per run. */
  maxTimers?: number;
  /** After the deadline, how long the worker gets to stop by itself before the parent terminates it. */
  deadlineGraceMs?: number;
  /**
   * After `kill`, how long the worker gets to stop cooperatively before it is terminated. The caller's result does
   * not wait for this (it resolves at once); a longer grace only spares a worker restart on a loaded machine.
   */
  killGraceMs?: number;
  /** Workers started by `start()` and kept idle (for the default memory bucket). */
  warmWorkers?: number;
  /**
   * Let `http_request` pass plain `http:` URLs on to the handler (whose egress guard still decides). Default false:
   * HTTPS only, as the seed documents. Meant for loopback test servers.
   */
  allowHttpEgress?: boolean;
  /** Worker entry file; defaults to `dist/worker/worker-main.js` of this package. */
  workerEntry?: URL;
}

export const DEFAULT_MAX_WORKERS = Math.max(1, availableParallelism());
export const DEFAULT_MAX_QUEUE = 256;
/** With the default worker count; see {@link defaultMaxRunningPerTenant}. */
export const DEFAULT_MAX_RUNNING_PER_TENANT = defaultMaxRunningPerTenant(DEFAULT_MAX_WORKERS);
/** With the default queue; see {@link defaultMaxQueuedPerTenant}. */
export const DEFAULT_MAX_QUEUED_PER_TENANT = defaultMaxQueuedPerTenant(DEFAULT_MAX_QUEUE);
/** ~5 400 nested JS calls here (256 KiB allowed only ~1 360, too few for ordinary recursive code). */
export const DEFAULT_STACK_SIZE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CODE_CHARS = 1024 * 1024;
export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_LOG_ENTRIES = 1000;
export const DEFAULT_MAX_LOG_MESSAGE_CHARS = 8192;
export const DEFAULT_MAX_HOST_CALLS_PER_RUN = 10_000;
export const DEFAULT_MAX_HOST_RESPONSE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_TIMERS = 100;
export const DEFAULT_DEADLINE_GRACE_MS = 250;
export const DEFAULT_KILL_GRACE_MS = 250;
export const DEFAULT_WARM_WORKERS = 1;
export const DEFAULT_ALLOW_HTTP_EGRESS = false;

/** WASM memory a worker may have beyond the guest limit: the engine's own 16 MiB plus slack for bookkeeping. */
export const WASM_HEADROOM_MB = 32;
/** Workers are grouped by guest memory limit rounded up to this step (WASM memory maximum is fixed per worker). */
export const MEMORY_BUCKET_MB = 64;

/**
 * Half the workers, rounded up: one tenant can never hold every worker (on the 2-CPU default it runs one execution
 * at a time and the other worker stays free for everyone else), and two tenants can still use the whole pool. A pool
 * of one worker cannot be split, so there the cap is the pool and only the queue share protects other tenants.
 *
 * @example
 * defaultMaxRunningPerTenant(2); // 1
 * defaultMaxRunningPerTenant(8); // 4
 */
export function defaultMaxRunningPerTenant(maxWorkers: number): number {
  return maxWorkers > 1 ? Math.ceil(maxWorkers / 2) : Math.max(1, maxWorkers);
}

/**
 * Half the queue, rounded up: one tenant flooding it leaves the other half to the rest.
 *
 * @example
 * defaultMaxQueuedPerTenant(256); // 128
 */
export function defaultMaxQueuedPerTenant(maxQueue: number): number {
  return Math.max(1, Math.ceil(maxQueue / 2));
}

export type ResolvedSupervisorOptions = Required<Omit<SupervisorOptions, 'workerEntry'>> & { workerEntry: URL };

/** Fills defaults. */
export function resolveSupervisorOptions(options: SupervisorOptions = {}): ResolvedSupervisorOptions {
  const maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  return {
    maxWorkers,
    maxQueue,
    maxRunningPerTenant: Math.min(maxWorkers, positiveOr(options.maxRunningPerTenant, defaultMaxRunningPerTenant(maxWorkers))),
    maxQueuedPerTenant: Math.min(maxQueue, positiveOr(options.maxQueuedPerTenant, defaultMaxQueuedPerTenant(maxQueue))),
    stackSizeBytes: options.stackSizeBytes ?? DEFAULT_STACK_SIZE_BYTES,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    maxCodeChars: options.maxCodeChars ?? DEFAULT_MAX_CODE_CHARS,
    maxInputBytes: options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES,
    maxLogEntries: options.maxLogEntries ?? DEFAULT_MAX_LOG_ENTRIES,
    maxLogMessageChars: options.maxLogMessageChars ?? DEFAULT_MAX_LOG_MESSAGE_CHARS,
    maxHostCallsPerRun: options.maxHostCallsPerRun ?? DEFAULT_MAX_HOST_CALLS_PER_RUN,
    maxHostResponseBytes: options.maxHostResponseBytes ?? DEFAULT_MAX_HOST_RESPONSE_BYTES,
    maxTimers: options.maxTimers ?? DEFAULT_MAX_TIMERS,
    deadlineGraceMs: options.deadlineGraceMs ?? DEFAULT_DEADLINE_GRACE_MS,
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    warmWorkers: options.warmWorkers ?? DEFAULT_WARM_WORKERS,
    allowHttpEgress: options.allowHttpEgress ?? DEFAULT_ALLOW_HTTP_EGRESS,
    workerEntry: options.workerEntry ?? defaultWorkerEntry(),
  };
}

/** 0, unset or anything not a positive number means "the default" (a cap of 0 would run nothing). */
function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

/**
 * The worker must be plain JavaScript, so it always comes from `dist/`. When this file runs from sources (Vitest),
 * `src/supervisor/options.ts` maps to `dist/worker/worker-main.js`; `npm test` builds first.
 */
export function defaultWorkerEntry(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL('../../dist/worker/worker-main.js', here);
  return new URL('../worker/worker-main.js', here);
}

/** Memory bucket (guest MB, rounded up) for a guest limit. */
export function memoryBucketMb(limitMb: number): number {
  return Math.ceil(limitMb / MEMORY_BUCKET_MB) * MEMORY_BUCKET_MB;
}

/**
 * Fails early, and clearly, when the worker file is missing (sources used without a build).
 *
 * @example
 * assertWorkerEntryExists(defaultWorkerEntry());
 */
export function assertWorkerEntryExists(entry: URL): void {
  if (entry.protocol === 'file:' && !existsSync(fileURLToPath(entry))) {
    throw new TollgateError('UNAVAILABLE', `sandbox worker file ${fileURLToPath(entry)} is missing: run \`npm run build\` first`);
  }
}
