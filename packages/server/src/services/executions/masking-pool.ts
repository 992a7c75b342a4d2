import { Worker } from 'node:worker_threads';
import type { ExecutionOutcome } from '../../store/repositories/sandbox-executions.js';
import { maskInput, maskOutcome, type MaskedInput, type MaskedOutcome } from './execution-redaction.js';

/** Masks what an execution stores (see `execution-redaction.ts`) without holding up the thread serving requests. */
export interface ExecutionMasker {
  maskInput(input: unknown): Promise<MaskedInput>;
  maskOutcome(outcome: ExecutionOutcome): Promise<MaskedOutcome>;
  /** Stops the workers; later calls start new ones. */
  close(): Promise<void>;
}

/** A message to a masking worker. */
export type MaskingTask = { id: number; kind: 'input'; value: unknown } | { id: number; kind: 'outcome'; outcome: ExecutionOutcome };

/** A masking worker's answer to the task with the same id. */
export type MaskingReply = { id: number; input: MaskedInput } | { id: number; outcome: MaskedOutcome } | { id: number; error: string };

/** Most masking workers started at once (each masks one execution at a time). */
export const DEFAULT_MASKING_WORKERS = 2;
/** An idle masking worker stops after this long (a busy server keeps its workers warm). */
export const DEFAULT_MASKING_IDLE_MS = 30_000;
/**
 * Below this much work (characters of text, plus 256 per log line and audit entry, since every line is scanned
 * alone and in windows) masking runs inline: at most ~0.5 ms here, about what a round trip to a worker costs.
 */
export const DEFAULT_INLINE_MASKING_WORK = 4_096;

/** Options of {@link MaskingPool}; every field has a `DEFAULT_*`. */
export interface MaskingPoolOptions {
  readonly maxWorkers?: number;
  readonly idleMs?: number;
  readonly inlineWork?: number;
  /** The worker's plain-JavaScript entry file (default: `dist/services/executions/masking-worker.js`). */
  readonly workerEntry?: URL;
  /** Told when a worker failed and a task was masked inline instead (default: a process warning). */
  readonly onFallback?: (reason: string) => void;
}

interface PendingTask {
  resolve: (reply: MaskingReply) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingTask>;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * Masks executions in a few worker threads. Masking a worst-case run (1000 log lines of 8 KB full of the secret
 * rules' keywords) takes about a second of CPU; on the thread serving requests that stalled every tenant's
 * requests for that second. Small outcomes are masked inline; if a worker fails, the task is masked inline too, so
 * the stored form never depends on a worker being healthy (only the server's responsiveness does). Workers start
 * on demand and stop when idle, and never keep the process alive on their own.
 *
 * @example
 * const masker = new MaskingPool();
 * const { outcome, logsHash } = await masker.maskOutcome(outcome);
 * await masker.close();
 */
export class MaskingPool implements ExecutionMasker {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;
  private warned = false;

  constructor(private readonly options: MaskingPoolOptions = {}) {}

  async maskInput(input: unknown): Promise<MaskedInput> {
    if (!exceedsWork(input, this.inlineWork)) return maskInput(input);
    const reply = await this.dispatch((id) => ({ id, kind: 'input', value: input }));
    return reply && 'input' in reply ? reply.input : maskInput(input);
  }

  async maskOutcome(outcome: ExecutionOutcome): Promise<MaskedOutcome> {
    if (!exceedsWork([outcome.output, outcome.logs, outcome.hostCallAudit, outcome.error, outcome.terminationReason], this.inlineWork)) {
      return maskOutcome(outcome);
    }
    const reply = await this.dispatch((id) => ({ id, kind: 'outcome', outcome }));
    return reply && 'outcome' in reply ? reply.outcome : maskOutcome(outcome);
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((entry) => this.stop(entry)));
  }

  private get inlineWork(): number {
    return this.options.inlineWork ?? DEFAULT_INLINE_MASKING_WORK;
  }

  /** Sends a task to the least busy worker; undefined when it failed (the caller masks inline). */
  private async dispatch(task: (id: number) => MaskingTask): Promise<MaskingReply | undefined> {
    const id = this.nextId++;
    try {
      const entry = this.pickWorker();
      const reply = await new Promise<MaskingReply>((resolve, reject) => {
        entry.pending.set(id, { resolve, reject });
        clearTimeout(entry.idleTimer);
        entry.worker.ref();
        entry.worker.postMessage(task(id));
      });
      if ('error' in reply) throw new Error(reply.error);
      return reply;
    } catch (error) {
      this.fallBack(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  private pickWorker(): PoolWorker {
    const idle = this.workers.find((entry) => entry.pending.size === 0);
    if (idle) return idle;
    if (this.workers.length < (this.options.maxWorkers ?? DEFAULT_MASKING_WORKERS)) return this.startWorker();
    return this.workers.reduce((least, entry) => (entry.pending.size < least.pending.size ? entry : least));
  }

  private startWorker(): PoolWorker {
    const worker = new Worker(this.options.workerEntry ?? defaultMaskingWorkerEntry(), { execArgv: withoutConditions(process.execArgv), env: {} });
    const entry: PoolWorker = { worker, pending: new Map(), idleTimer: undefined };
    const failAll = (error: Error) => {
      this.forget(entry);
      for (const task of entry.pending.values()) task.reject(error);
      entry.pending.clear();
    };
    worker.on('message', (reply: MaskingReply) => {
      entry.pending.get(reply.id)?.resolve(reply);
      entry.pending.delete(reply.id);
      if (entry.pending.size === 0) this.idle(entry);
    });
    worker.on('error', (error) => failAll(error));
    worker.on('exit', (code) => failAll(new Error(`masking worker exited with code ${code}`)));
    this.workers.push(entry);
    return entry;
  }

  /** An idle worker does not keep the process alive, and stops after `idleMs`. */
  private idle(entry: PoolWorker): void {
    entry.worker.unref();
    entry.idleTimer = setTimeout(() => {
      if (entry.pending.size > 0) return;
      this.forget(entry);
      void this.stop(entry);
    }, this.options.idleMs ?? DEFAULT_MASKING_IDLE_MS);
    entry.idleTimer.unref();
  }

  private forget(entry: PoolWorker): void {
    const index = this.workers.indexOf(entry);
    if (index >= 0) this.workers.splice(index, 1);
  }

  private async stop(entry: PoolWorker): Promise<void> {
    clearTimeout(entry.idleTimer);
    await entry.worker.terminate();
  }

  private fallBack(reason: string): void {
    if (this.options.onFallback) return this.options.onFallback(reason);
    if (this.warned) return;
    this.warned = true;
    process.emitWarning(`execution masking fell back to the request thread: ${reason}`, { code: 'TOLLGATE_MASKING_FALLBACK' });
  }
}

/**
 * The worker must be plain JavaScript, so it always comes from `dist/`. When this file runs from sources (Vitest),
 * it maps to `dist/services/executions/masking-worker.js`; `npm test` builds first.
 */
export function defaultMaskingWorkerEntry(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL('../../../dist/services/executions/masking-worker.js', here);
  return new URL('./masking-worker.js', here);
}

/**
 * The parent's Node flags without export conditions: a worker inherits them, and a `source` condition (Vitest's,
 * see `vitest.config.ts`) would resolve `@tollgate/core` to TypeScript that the plain-JavaScript worker cannot load.
 */
function withoutConditions(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i] ?? '';
    if (flag === '--conditions' || flag === '-C') i++;
    else if (!flag.startsWith('--conditions=')) kept.push(flag);
  }
  return kept;
}

/**
 * Whether masking `value` is more than `budget` work: characters of strings and keys, plus 256 per array item and
 * object (each log line and audit entry is scanned alone and in windows). Stops walking once over budget, so it
 * costs at most ~`budget` steps however large the value is.
 */
function exceedsWork(value: unknown, budget: number): boolean {
  let work = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') work += item.length;
    else if (Array.isArray(item)) {
      work += 256 * item.length;
      if (work <= budget) stack.push(...item);
    } else if (typeof item === 'object' && item !== null) {
      work += 256;
      for (const key in item) {
        work += key.length + 8;
        if (work > budget) return true;
        stack.push((item as Record<string, unknown>)[key]);
      }
    } else work += 8;
    if (work > budget) return true;
  }
  return false;
}
