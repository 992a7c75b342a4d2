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
    try {
      const batch = merge([...taken.map((item) => item.part), this.options.extras?.() ?? {}]);
      await this.options.write(batch);
      for (const item of taken) item.resolve();
    } catch (error) {
      this.options.onFailure?.(error, taken.map((item) => item.part));
      for (const item of taken) item.reject(error);
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }
}

function merge(parts: readonly BatchPart[]): EnforcementBatch {
  const batch: EnforcementBatch = { decisions: [], violations: [], holds: [], outputs: [], sessions: [], counters: [] };
  for (const part of parts) {
    if (part.decisions) batch.decisions.push(...part.decisions);
    if (part.violations) batch.violations.push(...part.violations);
    if (part.holds) batch.holds.push(...part.holds);
    if (part.outputs) batch.outputs.push(...part.outputs);
    if (part.sessions) batch.sessions.push(...part.sessions);
    if (part.counters) batch.counters.push(...part.counters);
  }
  return batch;
}
