import { rateLimitKeyExpiry } from '@tollgate/core';

/** Counters kept in memory per replica, loaded from the store on first use, persisted with each group commit. */
export const DEFAULT_MAX_COUNTERS = 200_000;

/**
 * Rate-limit counters by (tenant, key). Keys end in their window number, so a window's counter simply stops
 * being asked for when the window passes; `expiresAt` lets old ones be pruned.
 *
 * @example
 * const count = counters.count('acme', 'emails|agent:bot|29000');
 */
export class RateCounters {
  private readonly counts = new Map<string, { count: number; expiresAt: number }>();

  constructor(private readonly deps: {
    load: (tenantId: string, keys: readonly string[], now: number) => Promise<Map<string, number>>;
    maxEntries?: number;
  }) {}

  /** Known count, or undefined when this replica has not loaded the key yet. */
  peek(tenantId: string, key: string): number | undefined {
    return this.counts.get(`${tenantId}\n${key}`)?.count;
  }

  /** True when this replica knows every one of `keys` (nothing to load). */
  loaded(tenantId: string, keys: readonly string[]): boolean {
    for (const key of keys) if (!this.counts.has(`${tenantId}\n${key}`)) return false;
    return true;
  }

  /** Loads the keys this replica does not know yet. */
  async ensure(tenantId: string, keys: readonly string[], now: number): Promise<boolean> {
    const missing = keys.filter((key) => !this.counts.has(`${tenantId}\n${key}`));
    if (missing.length === 0) return false;
    const loaded = await this.deps.load(tenantId, missing, now);
    for (const key of missing) {
      const fullKey = `${tenantId}\n${key}`;
      if (!this.counts.has(fullKey)) this.counts.set(fullKey, { count: loaded.get(key) ?? 0, expiresAt: expiryOf(key, now) });
    }
    return true;
  }

  increment(tenantId: string, key: string, now: number): { tenantId: string; key: string; increment: number; expiresAt: number } {
    const fullKey = `${tenantId}\n${key}`;
    const entry = this.counts.get(fullKey) ?? { count: 0, expiresAt: expiryOf(key, now) };
    entry.count += 1;
    this.counts.set(fullKey, entry);
    if (this.counts.size > (this.deps.maxEntries ?? DEFAULT_MAX_COUNTERS)) this.prune(now);
    return { tenantId, key, increment: 1, expiresAt: entry.expiresAt };
  }

  /**
   * Drops expired counters, then, if that was not enough, the oldest ones down to 90% of the limit: their counts are
   * in the store (added with each commit) and are loaded again when next needed. Without the second step, a caller
   * naming a new session per call under a `per: session` limit kept the map above the limit with nothing expired,
   * and every further call walked all of it.
   */
  private prune(now: number): void {
    for (const [key, entry] of this.counts) if (entry.expiresAt <= now) this.counts.delete(key);
    const target = Math.floor((this.deps.maxEntries ?? DEFAULT_MAX_COUNTERS) * 0.9);
    for (const key of this.counts.keys()) {
      if (this.counts.size <= target) break;
      this.counts.delete(key);
    }
  }
}

function expiryOf(key: string, now: number): number {
  return rateLimitKeyExpiry(key) ?? now + 86_400_000;
}
