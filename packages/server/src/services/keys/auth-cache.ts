import type { ApiKeyRecord } from '../../store/index.js';

/**
 * Short-lived cache of key records for authentication, so a request does not need a database round trip.
 * Correctness: every change to a key (revoke, expiry) is published on the bus and evicts the entry on every
 * replica; `invalidateAll()` is called when the database was changed by another process (SQLite `data_version`),
 * e.g. `tollgate keys revoke` while the server runs. The TTL only bounds memory and staleness after a missed signal.
 */
export class AuthCache {
  readonly #entries = new Map<string, { record: ApiKeyRecord; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(id: string, now: number): ApiKeyRecord | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.record;
  }

  set(record: ApiKeyRecord, now: number): void {
    if (this.ttlMs <= 0) return;
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(record.id, { record, until: now + this.ttlMs });
  }

  invalidate(id: string): void {
    this.#entries.delete(id);
  }

  invalidateAll(): void {
    this.#entries.clear();
  }
}
