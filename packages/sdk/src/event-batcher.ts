import type { EventOptions } from './config.js';
import { fitEventToWire } from './event-limits.js';
import type { HttpClient } from './http-client.js';
import { TransportError } from './http-client.js';
import type { SdkLogger } from './logger.js';
import type { BehavioralEvent } from './types.js';

/** Time allowed for one batch request. */
export const EVENT_REQUEST_TIMEOUT_MS = 10_000;
/** First retry delay; doubles per consecutive failure up to `maxRetryDelayMs`. */
export const BASE_RETRY_DELAY_MS = 250;
/** How often `beforeExit` may try to flush before giving up (prevents an endless exit loop when the server is down). */
export const MAX_EXIT_FLUSHES = 3;

/** Counters exposed by {@link EventBatcher.stats}. */
export interface EventStats {
  queued: number;
  sent: number;
  duplicates: number;
  dropped: number;
  rejected: number;
  failedAttempts: number;
}

/**
 * Exponential backoff with full jitter: a random delay in [0, min(cap, base·2^attempt)].
 * @example
 * backoffDelay(3, 30_000); // somewhere in 0..2000 ms
 */
export function backoffDelay(attempt: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, BASE_RETRY_DELAY_MS * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * A bounded in-memory queue of events sent in the background. Events leave the queue only after
 * the server acknowledged them (at least once on the wire; the server dedupes by `eventId`).
 */
export class EventBatcher {
  readonly #client: HttpClient;
  readonly #options: Required<EventOptions>;
  readonly #logger: SdkLogger;
  readonly #queue: BehavioralEvent[] = [];
  readonly #stats: EventStats = { queued: 0, sent: 0, duplicates: 0, dropped: 0, rejected: 0, failedAttempts: 0 };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<boolean> | undefined;
  #attempt = 0;
  #exitFlushes = 0;
  #exitHook: (() => void) | undefined;
  #closed = false;
  /** Learned from 413 answers: the server's body limit allows at most this many events per batch. */
  #countCap = Number.POSITIVE_INFINITY;
  /**
   * Sizes of the next batches at the head of the queue while a batch the server refused (400) is being split in
   * halves; empty otherwise. One event the server refuses must not cost the other events of its batch.
   */
  readonly #splits: number[] = [];

  constructor(client: HttpClient, options: Required<EventOptions>, logger: SdkLogger) {
    this.#client = client;
    this.#options = options;
    this.#logger = logger;
  }

  /**
   * Queues an event; never waits and never throws. Past the bound the event is dropped and counted. Fields over the
   * server's limits are cut first (see `fitEventToWire`).
   */
  enqueue(event: BehavioralEvent): void {
    if (!this.#options.enabled || this.#closed) return;
    if (this.#queue.length >= this.#options.maxQueueSize) {
      this.#stats.dropped += 1;
      if (this.#stats.dropped === 1 || this.#stats.dropped % 1000 === 0) this.#logger.warn(`event queue full; ${this.#stats.dropped} events dropped`);
      return;
    }
    this.#queue.push(fitEventToWire(event));
    this.#stats.queued += 1;
    this.#installExitHook();
    this.#schedule(this.#queue.length >= this.#options.batchSize ? 0 : this.#options.flushIntervalMs);
  }

  /** A snapshot of the counters, plus the current queue length as `pending`. */
  stats(): EventStats & { pending: number } {
    return { ...this.#stats, pending: this.#queue.length };
  }

  /**
   * Sends everything queued, retrying with backoff until the queue is empty or `timeoutMs` passes.
   * Resolves to true when the queue is empty.
   */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length > 0 && Date.now() < deadline) {
      const ok = await this.#sendOnce();
      if (!ok) await sleep(Math.min(backoffDelay(this.#attempt, this.#options.maxRetryDelayMs), Math.max(0, deadline - Date.now())));
    }
    return this.#queue.length === 0;
  }

  /** Flushes, then stops the timer and the exit hook; later events are ignored. */
  async shutdown(timeoutMs = 30_000): Promise<boolean> {
    const flushed = await this.flush(timeoutMs);
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#exitHook) process.off('beforeExit', this.#exitHook);
    this.#exitHook = undefined;
    return flushed;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, delayMs);
    // The timer must not keep the agent process alive; `beforeExit` does the last flush.
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const ok = await this.#sendOnce();
    if (this.#queue.length === 0) return;
    this.#schedule(ok ? 0 : backoffDelay(this.#attempt, this.#options.maxRetryDelayMs));
  }

  /** One request with the head of the queue; a single request is in flight at a time. */
  async #sendOnce(): Promise<boolean> {
    // Whoever arrives while a request is in flight shares its outcome, so a failure backs off everywhere.
    if (this.#inFlight) return this.#inFlight;
    this.#inFlight = this.#post();
    try {
      return await this.#inFlight;
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** The head of the queue, bounded by count and by JSON size (always at least one event). */
  #nextBatch(): BehavioralEvent[] {
    const limit = Math.min(this.#options.batchSize, this.#countCap, this.#splits[0] ?? Number.POSITIVE_INFINITY);
    let bytes = 0;
    let count = 0;
    for (const event of this.#queue) {
      if (count >= limit) break;
      bytes += JSON.stringify(event).length + 1;
      if (count > 0 && bytes > this.#options.maxBatchBytes) break;
      count += 1;
    }
    return this.#queue.slice(0, count);
  }

  async #post(): Promise<boolean> {
    const batch = this.#nextBatch();
    if (batch.length === 0) return true;
    try {
      const result = await this.#client.sendEvents(batch, EVENT_REQUEST_TIMEOUT_MS);
      this.#remove(batch.length);
      this.#stats.sent += result.accepted;
      this.#stats.duplicates += result.duplicates;
      this.#attempt = 0;
      return true;
    } catch (error) {
      if (error instanceof TransportError && error.status === 413 && batch.length > 1) {
        // The server's body limit is below our batch: send smaller batches from now on.
        this.#countCap = Math.max(1, Math.floor(batch.length / 2));
        return true;
      }
      if (error instanceof TransportError && error.status === 400) return this.#onRefused(error, batch);
      return this.#onFailure(error, batch.length);
    }
  }

  /**
   * The server refused the batch as invalid. Fields are cut to the wire limits when queued, but an event can still be
   * refused (a bad timestamp, an empty name): the batch is split in halves, each sent on its own right away, until
   * the event refused alone is found; only that one is dropped (and counted as `rejected`).
   */
  #onRefused(error: TransportError, batch: BehavioralEvent[]): boolean {
    this.#stats.failedAttempts += 1;
    if (batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      this.#consumeSplits(batch.length);
      this.#splits.unshift(half, batch.length - half);
      this.#logger.debug(`event batch of ${batch.length} refused (${error.message}); sending it in halves`);
      return true;
    }
    this.#remove(1);
    this.#stats.rejected += 1;
    const [event] = batch;
    this.#logger.error(`event ${event?.eventType ?? ''} for ${event?.toolName ?? ''} rejected: ${error.message}`);
    return true;
  }

  /** Removes `count` acknowledged or rejected events from the head of the queue. */
  #remove(count: number): void {
    this.#queue.splice(0, count);
    this.#consumeSplits(count);
  }

  /** Advances the split plan by `count` events that left the head of the queue (or were planned anew). */
  #consumeSplits(count: number): void {
    let left = count;
    while (left > 0 && this.#splits.length > 0) {
      const head = this.#splits[0] ?? 0;
      if (head <= left) {
        left -= head;
        this.#splits.shift();
      } else {
        this.#splits[0] = head - left;
        left = 0;
      }
    }
  }

  #onFailure(error: unknown, size: number): boolean {
    this.#stats.failedAttempts += 1;
    if (error instanceof TransportError && !error.retryable) {
      // The server refused the batch itself (bad key, another agent): retrying cannot help.
      this.#remove(size);
      this.#stats.rejected += size;
      this.#logger.error(`event batch rejected: ${error.message}`);
      return true;
    }
    this.#attempt += 1;
    this.#logger.debug(`event batch failed (attempt ${this.#attempt}): ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }

  #installExitHook(): void {
    if (this.#exitHook) return;
    this.#exitHook = () => {
      if (this.#queue.length === 0 || this.#exitFlushes >= MAX_EXIT_FLUSHES) return;
      this.#exitFlushes += 1;
      void this.flush(5_000);
    };
    process.on('beforeExit', this.#exitHook);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
