import { TollgateError } from '@tollgate/core';
import { SandboxWorker } from './sandbox-worker.js';

/**
 * What a run needs from a worker: its memory bucket, the guest limit its current WASM size must leave room for, and
 * its isolation domain (the tenant): a worker only ever serves runs of one domain.
 */
export interface WorkerNeed {
  bucketMb: number;
  limitBytes: number;
  /** Runs of different domains never share a worker thread, nor the WASM memory earlier runs left bytes in. */
  isolationKey: string;
}

interface Waiter extends WorkerNeed {
  resolve: (worker: SandboxWorker) => void;
  reject: (error: Error) => void;
}

/**
 * Worker threads grouped by memory bucket (a worker's WASM maximum is fixed when it starts) and bound to the
 * isolation domain (tenant) of the first run they serve. Hands out one idle worker per execution, starts new ones
 * up to `maxWorkers`, evicts idle workers of other buckets or domains when full, and queues the rest in FIFO order.
 *
 * Why domains: a worker's WASM memory holds what earlier runs left there (inputs, outputs, HTTP responses, secrets
 * substituted into requests). The guest cannot read it today, but one uninitialised-read bug in the engine (this
 * QuickJS build had one: a growable SharedArrayBuffer, now removed) would hand another tenant's data to a guest.
 */
export class WorkerPool {
  private readonly entry: URL;
  private readonly maxWorkers: number;
  private readonly maxQueue: number;
  private readonly all = new Set<SandboxWorker>();
  private readonly idle: SandboxWorker[] = [];
  private readonly waiters: Waiter[] = [];
  /** The isolation domain each worker was bound to by its first run (unbound: fresh or warmed, never used). */
  private readonly domains = new WeakMap<SandboxWorker, string>();
  private closed = false;

  constructor(entry: URL, maxWorkers: number, maxQueue: number) {
    this.entry = entry;
    this.maxWorkers = maxWorkers;
    this.maxQueue = maxQueue;
  }

  get size(): number { return this.all.size; }
  get idleCount(): number { return this.idle.length; }

  /** Starts `count` idle workers for a bucket (ahead of the first run). */
  async warm(bucketMb: number, count: number): Promise<void> {
    const started: SandboxWorker[] = [];
    while (started.length < count && this.all.size < this.maxWorkers) started.push(this.spawn(bucketMb));
    await Promise.all(started.map((w) => w.ready));
    for (const worker of started) this.release(worker);
  }

  /**
   * Resolves with an idle, started worker of the bucket whose WASM memory (which never shrinks) is still within
   * baseline + the run's limit, so "WASM size > baseline + limit" keeps meaning "this guest is over its limit".
   */
  acquire(need: WorkerNeed): Promise<SandboxWorker> {
    if (this.closed) return Promise.reject(new TollgateError('UNAVAILABLE', 'sandbox supervisor is closed'));
    const worker = this.takeNow(need);
    if (worker) {
      return worker.ready.then(() => worker, (error: unknown) => {
        this.discard(worker);
        throw new TollgateError('UNAVAILABLE', 'sandbox worker failed to start', { cause: error });
      });
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(new TollgateError('UNAVAILABLE', 'sandbox is busy: too many executions queued'));
    }
    return new Promise((resolve, reject) => this.waiters.push({ ...need, resolve, reject }));
  }

  /** Returns a healthy worker after a run. */
  release(worker: SandboxWorker): void {
    if (!worker.alive || this.closed) return this.discard(worker);
    worker.onMessage = undefined;
    worker.onExit = () => this.discard(worker);
    this.idle.push(worker);
    this.drain();
  }

  /** Terminates a worker (crashed, hung, grew, or no longer trusted) and lets a waiter use the freed slot. */
  discard(worker: SandboxWorker): void {
    this.remove(worker);
    this.drain();
  }

  private remove(worker: SandboxWorker): void {
    worker.terminate();
    this.all.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new TollgateError('UNAVAILABLE', 'sandbox supervisor is closed'));
    for (const worker of [...this.all]) this.remove(worker);
  }

  private drain(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const worker = this.takeNow(waiter);
      if (!worker) { i++; continue; }
      this.waiters.splice(i, 1);
      worker.ready.then(() => waiter.resolve(worker), (error: Error) => {
        this.discard(worker);
        waiter.reject(new TollgateError('UNAVAILABLE', 'sandbox worker failed to start', { cause: error }));
      });
    }
  }

  private takeNow(need: WorkerNeed): SandboxWorker | undefined {
    const fits = (w: SandboxWorker): boolean => {
      const domain = this.domains.get(w);
      return w.alive && w.bucketMb === need.bucketMb && w.wasmMb() * 1048576 <= w.baselineBytes + need.limitBytes
        && (domain === undefined || domain === need.isolationKey);
    };
    // A worker already bound to this domain first, then an unbound (warmed) one.
    let index = this.idle.findIndex((w) => fits(w) && this.domains.get(w) === need.isolationKey);
    if (index < 0) index = this.idle.findIndex(fits);
    if (index >= 0) return this.bind(this.idle.splice(index, 1)[0]!, need);
    if (this.all.size >= this.maxWorkers && this.idle.length > 0) this.remove(this.idle[0]!);
    if (this.all.size < this.maxWorkers) return this.bind(this.spawn(need.bucketMb), need);
    return undefined;
  }

  private bind(worker: SandboxWorker, need: WorkerNeed): SandboxWorker {
    this.domains.set(worker, need.isolationKey);
    return worker;
  }

  /** The isolation domain a worker is bound to (tests and diagnostics). */
  domainOf(worker: SandboxWorker): string | undefined {
    return this.domains.get(worker);
  }

  private spawn(bucketMb: number): SandboxWorker {
    const worker = new SandboxWorker(this.entry, bucketMb);
    this.all.add(worker);
    worker.onExit = () => this.discard(worker);
    return worker;
  }
}
