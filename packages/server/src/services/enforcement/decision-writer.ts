import type { EnforcementBatch } from '../../store/repositories/decisions.js';

/** Most items written in one transaction. */
export const DEFAULT_MAX_BATCH = 2_000;

export type BatchPart = Partial<EnforcementBatch>;

interface Pending {
  part: BatchPart;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: decisions that arrive while a transaction is running are written together in the next
 * one. `enqueue` resolves only after the transaction holding that part committed, so a decision is never
 * acknowledged before it is recorded; if the transaction fails, every caller in it gets the error.
 *
 * @example
 * const writer = new DecisionWriter({ write: (batch) => store.decisions.writeBatch(batch) });
 * await writer.enqueue({ decisions: [record] });
 */
export class DecisionWriter {
  private pending: Pending[] = [];
  private writing = 0;
  private flushing = false;
  private scheduled = false;

  constructor(private readonly options: {
    write: (batch: EnforcementBatch) => Promise<void>;
    /** Adds what should ride along with every transaction (e.g. dirty session states). */
    extras?: () => BatchPart;
    /** Called when a transaction failed (e.g. to drop cached state that was not persisted). */
    onFailure?: (error: unknown, parts: readonly BatchPart[]) => void;
    maxBatch?: number;
  }) {}

  /** Calls waiting for their part to be committed (queued or in the transaction being written). */
  get waiting(): number {
    return this.pending.length + this.writing;
  }

  enqueue(part: BatchPart): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ part, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything enqueued so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.flushing) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const taken = this.pending.splice(0, this.options.maxBatch ?? DEFAULT_MAX_BATCH);
    const extras = this.options.extras?.() ?? {};
    this.writing = taken.length;
    try {
      await this.options.write(merge([...taken.map((item) => item.part), extras]));
      for (const item of taken) item.resolve();
    } catch (error) {
      if (taken.length === 1) this.fail(taken, error, [extras]);
      else await this.isolate(taken, extras);
    } finally {
      this.writing = 0;
      this.flushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }

  /**
   * A transaction of several callers failed: write each caller's part on its own, so one row the database refuses
   * fails only its own call, not every other caller (other tenants included) that happened to share the batch.
   */
  private async isolate(taken: readonly Pending[], extras: BatchPart): Promise<void> {
    for (const item of taken) {
      try {
        await this.options.write(merge([item.part]));
        item.resolve();
      } catch (error) {
        this.fail([item], error, []);
      }
    }
    try {
      await this.options.write(merge([extras]));
    } catch (error) {
      this.options.onFailure?.(error, [extras]);
    }
  }

  private fail(items: readonly Pending[], error: unknown, extras: readonly BatchPart[]): void {
    this.options.onFailure?.(error, [...items.map((item) => item.part), ...extras]);
    for (const item of items) item.reject(error);
  }
}

function merge(parts: readonly BatchPart[]): EnforcementBatch {
  const batch: EnforcementBatch = { decisions: [], violations: [], holds: [], outputs: [], sessions: [], agents: [], counters: [] };
  for (const part of parts) {
    if (part.decisions) batch.decisions.push(...part.decisions);
    if (part.violations) batch.violations.push(...part.violations);
    if (part.holds) batch.holds.push(...part.holds);
    if (part.outputs) batch.outputs.push(...part.outputs);
    if (part.sessions) batch.sessions.push(...part.sessions);
    if (part.agents) batch.agents.push(...part.agents);
    if (part.counters) batch.counters.push(...part.counters);
  }
  return batch;
}
