import type { ApiKeyRecord } from '../../store/index.js';

/** A cached key record. */
export interface AuthCacheEntry<Granted> {
  readonly record: ApiKeyRecord;
  /** What the key grants, built once and shared by every request that presents it. */
  readonly granted: Granted;
  readonly until: number;
  /**
   * The secret that last verified against `record.secretHash` (set by the key service): a request presenting the
   * same secret is accepted after a constant-time comparison instead of a SHA-256. It lives only as long as the
   * entry (the TTL, an eviction, a key change) and only in this process's memory, like the request that carried it.
   */
  verifiedSecret: string | undefined;
}

/**
 * Short-lived cache of key records for authentication, so a request does not need a database round trip.
 * Correctness: every change to a key (revoke, expiry) is published on the bus and evicts the entry on every
 * replica; `invalidateAll()` is called when the database was changed by another process (SQLite `data_version`),
 * e.g. `tollgate keys revoke` while the server runs. The TTL only bounds memory and staleness after a missed signal.
 */
export class AuthCache<Granted = unknown> {
  readonly #entries = new Map<string, AuthCacheEntry<Granted>>();
  #generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached record and what it grants (built once by `set`'s caller, shared by every request with the key). */
  get(id: string, now: number): AuthCacheEntry<Granted> | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry;
  }

  /**
   * Bumped by every invalidation. Read it before fetching a record from the database and pass it to `set`: a
   * record read before a key change (revoke, expiry) whose eviction ran while the read was in flight must not be
   * cached afterwards, or the change would be ignored until the TTL.
   */
  get generation(): number {
    return this.#generation;
  }

  /** Caches `record` unless an invalidation happened since `generation` was read (the record may predate it). */
  set(record: ApiKeyRecord, granted: Granted, now: number, generation: number): void {
    if (this.ttlMs <= 0 || generation !== this.#generation) return;
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(record.id, { record, granted, until: now + this.ttlMs, verifiedSecret: undefined });
  }

  invalidate(id: string): void {
    this.#generation += 1;
    this.#entries.delete(id);
  }

  invalidateAll(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}
