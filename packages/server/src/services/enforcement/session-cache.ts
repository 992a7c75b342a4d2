import { createSessionState, deserializeSessionState, serializeSessionState } from '@tollgate/core';
import type { SessionState } from '@tollgate/core';

/** Sessions kept in memory per replica; the least recently used are dropped (their state is in the database). */
export const DEFAULT_MAX_CACHED_SESSIONS = 50_000;
/**
 * A session whose only change is its call count and last-call times is written at most this often; a
 * change of its violations or remembered values is written with the very next group commit.
 */
export const DEFAULT_SESSION_WRITE_INTERVAL_MS = 1_000;

/**
 * A session remembering more values than this is written at most once per write interval even when urgent: its state
 * is tens to hundreds of KB of JSON (10,000 values: ~290 KB, ~3 ms to serialize), and writing it with every output
 * that added a value let one caller spend the server's time for every tenant. After a crash such a session may miss
 * up to the last interval of remembered values and violations.
 */
export const LARGE_SESSION_TAINTS = 1_000;

/** Without urgent changes, dirty sessions are looked through at most this often (their writes wait up to the interval anyway). */
export const NON_URGENT_SCAN_MS = 100;

interface Entry {
  state: SessionState;
  agentId: string;
  userId: string;
}

/**
 * Session state of the policy engine: cached in memory, loaded from the store on a miss, written back with
 * the next group commit (dirty entries), and serialized per session so two concurrent calls of one session
 * cannot lose each other's update.
 *
 * Several replicas on PostgreSQL each cache sessions; route a session to one replica (sticky sessions) for
 * exact sequence, data-flow and progressive behaviour across replicas.
 *
 * @example
 * await sessions.withSession('acme', 's-1', 'bot', async (entry) => { entry.state = next; });
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private dirty = new Map<string, { tenantId: string; sessionId: string; urgent: boolean }>();
  private readonly writtenAt = new Map<string, number>();
  /** Urgent marks since the last scan (a scan is due at the next commit when above 0). */
  private urgentCount = 0;
  private scannedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: {
    load: (tenantId: string, sessionId: string) => Promise<string | undefined>;
    maxEntries?: number;
    writeIntervalMs?: number;
  }) {}

  /** Runs `fn` with the session's entry, one call per session at a time. Mutate `entry.state` to update it. */
  withSession<T>(tenantId: string, sessionId: string, agentId: string, fn: (entry: Entry) => Promise<T>): Promise<T> {
    const key = `${tenantId}\n${sessionId}`;
    const previous = this.locks.get(key);
    // No call of this session in flight and the session cached (the common case): run now, no promise hops.
    const run = previous === undefined
      ? this.runWith(key, tenantId, sessionId, agentId, fn)
      : previous.then(() => this.runWith(key, tenantId, sessionId, agentId, fn));
    const settled = run.then(ignore, ignore);
    this.locks.set(key, settled);
    void settled.then(() => { if (this.locks.get(key) === settled) this.locks.delete(key); });
    return run;
  }

  private runWith<T>(key: string, tenantId: string, sessionId: string, agentId: string, fn: (entry: Entry) => Promise<T>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached === undefined) return this.entry(key, tenantId, sessionId, agentId).then(fn);
    this.entries.delete(key); // re-insert: Map order is the LRU order
    this.entries.set(key, cached);
    try {
      return fn(cached);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Schedules the session's state for writing; `urgent` writes it with the next group commit. */
  markDirty(tenantId: string, sessionId: string, urgent: boolean): void {
    const key = `${tenantId}\n${sessionId}`;
    const seen = this.dirty.get(key);
    if (seen === undefined) this.dirty.set(key, { tenantId, sessionId, urgent });
    else if (urgent) seen.urgent = true;
    if (urgent) this.urgentCount += 1;
  }

  /**
   * Drops the tenant's cached sessions that have nothing left to write and no call in flight (a data-retention pass
   * may have deleted their stored state: the next call loads what the store still holds). Returns how many.
   */
  forgetTenant(tenantId: string): number {
    let dropped = 0;
    const prefix = `${tenantId}\n`;
    for (const key of this.entries.keys()) {
      if (!key.startsWith(prefix) || this.dirty.has(key) || this.locks.has(key)) continue;
      this.entries.delete(key);
      dropped += 1;
    }
    return dropped;
  }

  /** Drops a session (its persisted state is loaded again next time), e.g. after a failed write. */
  forget(tenantId: string, sessionId: string): void {
    this.entries.delete(`${tenantId}\n${sessionId}`);
  }

  /**
   * Serialized states due for writing: urgent ones (large ones at most once per interval), the others once per write
   * interval. Called at every group commit: without an urgent change it looks through the dirty sessions at most
   * every {@link NON_URGENT_SCAN_MS} (a walk over every dirty session per commit was ~1% of a saturated server).
   */
  takeDirty(now: number, all = false): Array<{ tenantId: string; sessionId: string; agentId: string; state: string; updatedAt: number }> {
    const interval = this.deps.writeIntervalMs ?? DEFAULT_SESSION_WRITE_INTERVAL_MS;
    if (!all && this.urgentCount === 0 && now - this.scannedAt < Math.min(NON_URGENT_SCAN_MS, interval)) return [];
    this.scannedAt = now;
    this.urgentCount = 0;
    const rows = [];
    for (const [key, { tenantId, sessionId, urgent }] of this.dirty) {
      const entry = this.entries.get(key);
      // A deferred (large) urgent session is written by a later scan once its interval has passed.
      if (!all && entry && now - (this.writtenAt.get(key) ?? 0) < interval && (!urgent || entry.state.taints.size > LARGE_SESSION_TAINTS)) continue;
      this.dirty.delete(key);
      if (!entry) continue;
      if (this.writtenAt.size >= (this.deps.maxEntries ?? DEFAULT_MAX_CACHED_SESSIONS)) this.writtenAt.clear();
      this.writtenAt.set(key, now);
      rows.push({ tenantId, sessionId, agentId: entry.agentId, state: JSON.stringify(serializeSessionState(entry.state)), updatedAt: now });
    }
    return rows;
  }

  /** True when some session state still waits to be written. */
  hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  private async entry(key: string, tenantId: string, sessionId: string, agentId: string): Promise<Entry> {
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key); // re-insert: Map order is the LRU order
      this.entries.set(key, cached);
      return cached;
    }
    const stored = await this.deps.load(tenantId, sessionId);
    const state = stored === undefined ? createSessionState() : deserializeSessionState(parseStoredState(stored));
    const entry: Entry = { state, agentId, userId: 'system' };
    this.entries.set(key, entry);
    const max = this.deps.maxEntries ?? DEFAULT_MAX_CACHED_SESSIONS;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= max) break;
      if (this.dirty.has(oldest)) continue;
      this.entries.delete(oldest);
    }
    return entry;
  }
}

function ignore(): undefined {
  return undefined;
}

/** A stored state's JSON, or null when it is damaged (the caller then starts from a fresh state). */
export function parseStoredState(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
