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
  /** Detaches the waiter from its run's abort signal once it leaves the queue. */
  detach: () => void;
}

/** Per-tenant limits of a {@link WorkerPool}; each defaults to no limit beyond the pool's own. */
export interface TenantLimits {
  /** Workers one isolation domain may hold at once; its further runs wait without blocking other domains. */
  maxRunningPerTenant?: number;
  /** Queue places one isolation domain may hold, so it cannot fill the whole queue and lock others out. */
  maxQueuedPerTenant?: number;
}

/**
 * Worker threads grouped by memory bucket (a worker's WASM maximum is fixed when it starts) and bound to the
 * isolation domain (tenant) of the first run they serve. Hands out one idle worker per execution, starts new ones
 * up to `maxWorkers`, evicts idle workers of other buckets or domains when full, and queues the rest.
 *
 * Fairness between domains: a domain holds at most `maxRunningPerTenant` workers and `maxQueuedPerTenant` queue
 * places. A freed worker goes to the oldest waiter whose domain is under its cap, so a domain at its cap never
 * blocks the queue for the others behind it (no head-of-line blocking), and within a domain runs start in order.
 * A domain's slot is held from hand-out until the worker comes back (`release`) or is terminated (`discard`),
 * whichever way the run ended, so a run still stopping after a kill keeps counting.
 *
 * Why domains: a worker's WASM memory holds what earlier runs left there (inputs, outputs, HTTP responses, secrets
 * substituted into requests). The guest cannot read it today, but one uninitialised-read bug in the engine (this
 * QuickJS build had one: a growable SharedArrayBuffer, now removed) would hand another tenant's data to a guest.
 */
export class WorkerPool {
  private readonly entry: URL;
  private readonly maxWorkers: number;
  private readonly maxQueue: number;
  private maxRunningPerTenant: number;
  private readonly maxQueuedPerTenant: number;
  private readonly all = new Set<SandboxWorker>();
  private readonly idle: SandboxWorker[] = [];
  private readonly waiters: Waiter[] = [];
  /** The isolation domain each worker was bound to by its first run (unbound: fresh or warmed, never used). */
  private readonly domains = new WeakMap<SandboxWorker, string>();
  /** Workers handed out and not yet back, with the domain each counts against. */
  private readonly busy = new Map<SandboxWorker, string>();
  private readonly runningByDomain = new Map<string, number>();
  private readonly queuedByDomain = new Map<string, number>();
  private closed = false;

  constructor(entry: URL, maxWorkers: number, maxQueue: number, limits: TenantLimits = {}) {
    this.entry = entry;
    this.maxWorkers = maxWorkers;
    this.maxQueue = maxQueue;
    this.maxRunningPerTenant = limits.maxRunningPerTenant ?? maxWorkers;
    this.maxQueuedPerTenant = limits.maxQueuedPerTenant ?? maxQueue;
  }

  /**
   * Changes how many workers one domain may hold (1 … maxWorkers; NaN means 1, since `running >= NaN` would never
   * hold and lift the cap). Raising it starts queued runs that now fit; lowering it lets running executions finish
   * and applies to the next hand-outs.
   */
  setMaxRunningPerTenant(limit: number): void {
    this.maxRunningPerTenant = Number.isNaN(limit) ? 1 : Math.max(1, Math.min(this.maxWorkers, Math.floor(limit)));
    this.drain();
  }

  /** How many workers one domain may hold right now. */
  get runningLimitPerTenant(): number { return this.maxRunningPerTenant; }

  get size(): number { return this.all.size; }
  get idleCount(): number { return this.idle.length; }
  /** Workers a domain holds right now (tests and diagnostics). */
  runningFor(isolationKey: string): number { return this.runningByDomain.get(isolationKey) ?? 0; }
  /** Runs of a domain waiting for a worker (tests and diagnostics). */
  queuedFor(isolationKey: string): number { return this.queuedByDomain.get(isolationKey) ?? 0; }

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
   * Rejects with `UNAVAILABLE` when closed, when the queue or the domain's share of it is full, or when `signal`
   * aborts while the run is queued (its place is given back at once).
   */
  acquire(need: WorkerNeed, signal?: AbortSignal): Promise<SandboxWorker> {
    if (this.closed) return Promise.reject(new TollgateError('UNAVAILABLE', 'sandbox supervisor is closed'));
    // Runs of one domain start in order: a newcomer never overtakes its own domain's queued runs.
    const worker = this.queuedFor(need.isolationKey) === 0 ? this.takeNow(need) : undefined;
    if (worker) {
      return worker.ready.then(() => worker, (error: unknown) => {
        this.discard(worker);
        throw new TollgateError('UNAVAILABLE', 'sandbox worker failed to start', { cause: error });
      });
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(new TollgateError('UNAVAILABLE', 'sandbox is busy: too many executions queued'));
    }
    if (this.queuedFor(need.isolationKey) >= this.maxQueuedPerTenant) {
      return Promise.reject(new TollgateError('UNAVAILABLE', 'sandbox is busy: too many executions of this tenant queued'));
    }
    if (signal?.aborted) return Promise.reject(new TollgateError('UNAVAILABLE', 'execution ended while queued'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (this.dequeue(waiter)) reject(new TollgateError('UNAVAILABLE', 'execution ended while queued'));
      };
      const waiter: Waiter = { ...need, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.count(this.queuedByDomain, need.isolationKey, 1);
    });
  }

  /** Returns a healthy worker after a run. */
  release(worker: SandboxWorker): void {
    if (!worker.alive || this.closed) return this.discard(worker);
    this.endRun(worker);
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
    this.endRun(worker);
    worker.terminate();
    this.all.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of [...this.waiters]) {
      this.dequeue(waiter);
      waiter.reject(new TollgateError('UNAVAILABLE', 'sandbox supervisor is closed'));
    }
    for (const worker of [...this.all]) this.remove(worker);
  }

  private drain(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const worker = this.takeNow(waiter);
      if (!worker) { i++; continue; }
      this.dequeue(waiter);
      worker.ready.then(() => waiter.resolve(worker), (error: Error) => {
        this.discard(worker);
        waiter.reject(new TollgateError('UNAVAILABLE', 'sandbox worker failed to start', { cause: error }));
      });
    }
  }

  /** Removes a waiter from the queue; false when it had already left (served, aborted or closed). */
  private dequeue(waiter: Waiter): boolean {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return false;
    this.waiters.splice(index, 1);
    this.count(this.queuedByDomain, waiter.isolationKey, -1);
    waiter.detach();
    return true;
  }

  private takeNow(need: WorkerNeed): SandboxWorker | undefined {
    // Checked before anything else, so a capped domain's waiter neither gets a worker nor evicts an idle one.
    // Runs without an isolation key (a library caller that declares no tenants) are one domain with nobody to be fair
    // to: the cap is for declared tenants.
    if (need.isolationKey !== '' && this.runningFor(need.isolationKey) >= this.maxRunningPerTenant) return undefined;
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
    this.busy.set(worker, need.isolationKey);
    this.count(this.runningByDomain, need.isolationKey, 1);
    return worker;
  }

  /** Frees the domain slot a handed-out worker held; a no-op for idle or already returned workers. */
  private endRun(worker: SandboxWorker): void {
    const domain = this.busy.get(worker);
    if (domain === undefined) return;
    this.busy.delete(worker);
    this.count(this.runningByDomain, domain, -1);
  }

  private count(counts: Map<string, number>, isolationKey: string, delta: number): void {
    const next = (counts.get(isolationKey) ?? 0) + delta;
    if (next > 0) counts.set(isolationKey, next);
    else counts.delete(isolationKey);
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
