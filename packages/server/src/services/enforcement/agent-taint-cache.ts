import { MAX_AGENT_SEQUENCE_WINDOW_MS, MAX_AGENT_TAINTS, createAgentTaints, recordAgentTaints } from '@tollgate/core';
import type { AgentTaints } from '@tollgate/core';
import { outputTaintsOf } from '../../store/repositories/decisions.js';
import type { DecisionRepository, StoredOutputTaints } from '../../store/repositories/decisions.js';
import type { AgentHistoryEntry } from './agent-history-cache.js';

/** Bus channel announcing that values were returned to an agent (payload {@link AgentTaintAnnouncement}). */
export const AGENT_TAINTS_CHANNEL = 'agent-taints';

export interface AgentTaintAnnouncement {
  tenantId: string;
  agentId: string;
  /** The announcing replica: it does not reload on its own announcement. */
  origin?: string;
}

/** Reads an announcement off the bus; undefined for anything malformed. */
export function readAgentTaintAnnouncement(payload: unknown): Required<AgentTaintAnnouncement> | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { tenantId, agentId, origin } = payload as Record<string, unknown>;
  if (typeof tenantId !== 'string' || typeof agentId !== 'string') return undefined;
  return { tenantId, agentId, origin: typeof origin === 'string' ? origin : '' };
}

/** Values kept in memory over all agents; past it the least recently used agents' values are dropped (and reloaded when needed). */
export const DEFAULT_MAX_CACHED_AGENT_TAINTS = 1_000_000;
/** Rows read per query when loading an agent's values. */
const PAGE_ROWS = 200;
/**
 * A reload after another replica's announcement reads the rows from this long before the newest time already
 * loaded: rows of several replicas do not commit in time order, and reading some twice changes nothing.
 */
export const RELOAD_OVERLAP_MS = 10_000;

type LoadOutputs = DecisionRepository['agentOutputs'];

interface Loaded {
  readonly entry: AgentHistoryEntry;
  /** Newest output time applied from the store or in memory. */
  newest: number;
  stale: boolean;
  pending?: Promise<void> | undefined;
}

/**
 * The values returned to each agent in any of its sessions (what data-flow rules with `across: agent` read), kept on
 * the agent's cached history (`history.taints`). Loaded from the recorded tool outputs only when such a rule is about
 * to read them (most recent first, at most `MAX_AGENT_TAINTS` values of the last 30 days), then kept up to date in
 * place by this replica's outputs. Another replica's output is announced on the bus and marks the agent stale: its
 * next read loads the rows added since (idempotent, so overlaps are harmless). At most
 * {@link DEFAULT_MAX_CACHED_AGENT_TAINTS} values are held over all agents.
 *
 * @example
 * const taints = await agentTaints.ensure(entry, Date.now());
 * agentTaints.add(entry, [[fingerprint, ['customer_pii']]], [1], Date.now());
 */
export class AgentTaintCache {
  private readonly loaded = new Map<string, Loaded>();
  private held = 0;

  constructor(private readonly deps: { load: LoadOutputs; maxValues?: number; maxPerAgent?: number }) {}

  /** The agent's values, loaded (or brought up to date after another replica's announcement) first when needed. */
  async ensure(entry: AgentHistoryEntry, now: number): Promise<AgentTaints> {
    let state = this.loaded.get(entry.key);
    if (state !== undefined && state.entry !== entry) {
      // The agent's history was dropped from its cache and loaded again: start over with the new one.
      this.forget(state);
      state = undefined;
    }
    if (state === undefined) {
      state = { entry, newest: Number.NEGATIVE_INFINITY, stale: true };
      entry.history.taints = createAgentTaints();
      this.loaded.set(entry.key, state);
    } else {
      this.loaded.delete(entry.key); // most recently used last
      this.loaded.set(entry.key, state);
    }
    // A read already under way may have started before an output this call must see was committed: wait for it, then
    // read once more if an announcement arrived meanwhile. At most these two, however many announcements keep coming
    // (later ones are for later calls). A failed read rejects this call (fail closed: no rule is evaluated without
    // the values) and leaves the agent stale for the next one.
    if (state.pending) await state.pending;
    // Another call may have started the read after an announcement while this one waited: that is the one to wait for.
    if (state.pending) await state.pending;
    else if (state.stale) {
      const current = state;
      current.stale = false;
      current.pending = this.read(current, now).finally(() => { current.pending = undefined; });
      current.pending.catch(() => { current.stale = true; });
      await current.pending;
    }
    this.trim(entry.key);
    return entry.history.taints ?? createAgentTaints();
  }

  /**
   * Values of an output this replica recorded for the agent (after its commit). Applied when the agent's values are
   * in memory (or on their way); otherwise nothing: they are loaded from the store when a rule needs them.
   */
  add(entry: AgentHistoryEntry, added: ReadonlyArray<readonly [string, readonly string[]]>, windowSizes: readonly number[], at: number): void {
    const state = this.loaded.get(entry.key);
    if (state === undefined || state.entry !== entry || added.length === 0) return;
    const apply = (): void => {
      const taints = entry.history.taints;
      if (taints === undefined) return;
      const before = taints.entries.size;
      recordAgentTaints(taints, added, windowSizes, at, this.maxPerAgent);
      this.held += taints.entries.size - before;
      state.newest = Math.max(state.newest, at);
    };
    if (state.pending) void state.pending.then(apply, () => undefined);
    else apply();
    this.trim(entry.key);
  }

  /** Another replica recorded values for the agent: the next read loads what was added since. */
  markStale(tenantId: string, agentId: string): void {
    const state = this.loaded.get(`${tenantId}\n${agentId}`); // the key of AgentHistoryCache entries
    if (state !== undefined) state.stale = true;
  }

  /**
   * Forgets the tenant's values returned before `cutoff` (a data-retention pass deleted their outputs): memory must
   * not keep matching what the store no longer holds.
   */
  forgetBefore(tenantId: string, cutoff: number): void {
    for (const state of this.loaded.values()) {
      const taints = state.entry.history.taints;
      if (state.entry.tenantId !== tenantId || taints === undefined) continue;
      for (const [fingerprint, value] of taints.entries) {
        if (value.at >= cutoff) continue;
        taints.entries.delete(fingerprint);
        this.held -= 1;
      }
    }
  }

  /** Values held in memory over all agents. */
  get size(): number {
    return this.held;
  }

  /** Reads the agent's outputs newer than what is loaded (all of the last 30 days at first), newest first, up to the bound. */
  private async read(state: Loaded, now: number): Promise<void> {
    const { tenantId, agentId } = state.entry;
    const since = Number.isFinite(state.newest) ? state.newest - RELOAD_OVERLAP_MS : now - MAX_AGENT_SEQUENCE_WINDOW_MS;
    const rows: Array<{ ts: number; taints: StoredOutputTaints }> = [];
    let values = 0;
    let before: { ts: number; seq: number } | undefined;
    let more = false;
    while (values < this.maxPerAgent) {
      const page = await this.deps.load(tenantId, agentId, { since, before, limit: PAGE_ROWS });
      for (const row of page) {
        const taints = outputTaintsOf(row);
        values += taints.added.length;
        rows.push({ ts: row.ts, taints });
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < PAGE_ROWS) break;
      before = { ts: last.ts, seq: last.seq };
      more = true;
    }
    const taints = state.entry.history.taints;
    if (taints === undefined) return;
    // Stopped at the bound with older rows left unread: those values are as good as dropped (returned no later than
    // the oldest row read), and data-flow rules whose window reaches them fail closed.
    const oldest = rows[rows.length - 1];
    if (more && values >= this.maxPerAgent && oldest !== undefined) {
      taints.droppedNewestAt = Math.max(taints.droppedNewestAt ?? Number.NEGATIVE_INFINITY, oldest.ts);
    }
    const count = taints.entries.size;
    // Oldest first, so the most recent values are the last forgotten.
    for (let index = rows.length - 1; index >= 0; index -= 1) {
      const row = rows[index]!;
      recordAgentTaints(taints, row.taints.added, row.taints.windowSizes, row.ts, this.maxPerAgent);
      state.newest = Math.max(state.newest, row.ts);
    }
    this.held += taints.entries.size - count;
  }

  /** Drops the least recently used agents' values (not `keep`'s) while more than the bound are held. */
  private trim(keep: string): void {
    const max = this.deps.maxValues ?? DEFAULT_MAX_CACHED_AGENT_TAINTS;
    for (const [key, state] of this.loaded) {
      if (this.held <= max) break;
      if (key === keep || state.pending) continue;
      this.forget(state);
    }
  }

  private forget(state: Loaded): void {
    this.held -= state.entry.history.taints?.entries.size ?? 0;
    delete state.entry.history.taints;
    this.loaded.delete(state.entry.key);
  }

  private get maxPerAgent(): number {
    return this.deps.maxPerAgent ?? MAX_AGENT_TAINTS;
  }
}
