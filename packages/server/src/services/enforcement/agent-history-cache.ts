import { agentViolationsSince, createAgentHistory, recordAgentViolation, deserializeAgentHistory, recordAgentCall, serializeAgentHistory } from '@tollgate/core';
import type { AgentHistory, CallHistoryLimits } from '@tollgate/core';
import { DEFAULT_SESSION_WRITE_INTERVAL_MS, NON_URGENT_SCAN_MS, parseStoredState } from './session-cache.js';

/** Agents whose history is kept in memory per replica; the least recently used are dropped (their history is stored). */
export const DEFAULT_MAX_CACHED_AGENTS = 10_000;

/** One cached agent: its history and the key it is cached under (built once, not per call). */
export interface AgentHistoryEntry {
  readonly tenantId: string;
  readonly agentId: string;
  readonly key: string;
  readonly history: AgentHistory;
}

/** One stored row of {@link AgentHistoryCache.takeDirty}. */
export interface AgentHistoryRow {
  tenantId: string;
  agentId: string;
  state: string;
  updatedAt: number;
}

/**
 * Agent-wide call histories (what `after.across: agent` sequence conditions read): cached in memory, loaded from
 * the store on a miss (one load per agent even when its calls arrive together), updated in place after every
 * decision, and written back with a group commit at most once per write interval, like a session's last-call
 * times. A failed write puts the agent back on the dirty list: memory is never behind what was decided.
 *
 * Every call is recorded, whether or not the active policy reads agent history, so a policy that starts using it
 * sees the calls made before it was activated.
 *
 * Several replicas on PostgreSQL each keep their own copy. A call of a tool that an agent-wide rule reads is written
 * with the decision's own commit and announced on the bus (`agent-history`), and every replica applies it to its
 * cached copy, so a read on one replica is seen by an e-mail on another (docs/enforcement.md).
 *
 * @example
 * const entry = histories.peek('acme', 'bot') ?? (await histories.load('acme', 'bot'));
 * evaluatePolicy(policy, input, { session, agent: entry.history });
 * histories.record(entry, 'read_customer', Date.now(), 'ALLOW');
 */
export class AgentHistoryCache {
  private readonly entries = new Map<string, AgentHistoryEntry>();
  private readonly loading = new Map<string, Promise<AgentHistoryEntry>>();
  private readonly dirty = new Map<string, AgentHistoryEntry>();
  /** Dirty agents to write with the very next commit (a call of a tool an agent-wide rule reads). */
  private readonly urgent = new Set<string>();
  private readonly writtenAt = new Map<string, number>();
  private scannedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: {
    load: (tenantId: string, agentId: string) => Promise<string | undefined>;
    maxEntries?: number;
    /** Tools remembered per agent (default `DEFAULT_MAX_AGENT_HISTORY_TOOLS` of @tollgate/core). */
    maxTools?: number;
    writeIntervalMs?: number;
  }) {}

  /** The cached entry of the agent, without waiting; undefined when it must be loaded. */
  peek(tenantId: string, agentId: string): AgentHistoryEntry | undefined {
    const key = `${tenantId}\n${agentId}`;
    const cached = this.entries.get(key);
    // Map order is the LRU order, which only matters once entries may be dropped: below half the limit a hit
    // leaves the entry where it stands (a re-insert per call cost measurable throughput).
    if (cached !== undefined && this.entries.size >= this.maxEntries / 2) {
      this.entries.delete(key);
      this.entries.set(key, cached);
    }
    return cached;
  }

  /** Loads the agent's entry (from memory, or once from the store while several calls wait for it). */
  load(tenantId: string, agentId: string): Promise<AgentHistoryEntry> {
    const key = `${tenantId}\n${agentId}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.loading.get(key);
    if (pending === undefined) {
      pending = this.deps.load(tenantId, agentId).then((stored) => {
        const entry = this.entries.get(key) ?? {
          tenantId, agentId, key, history: stored === undefined ? createAgentHistory() : deserializeAgentHistory(parseStoredState(stored)),
        };
        this.remember(entry);
        return entry;
      }).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  /**
   * Records one decided call of the agent (a blocked call's tool is not remembered; a violation is counted whatever
   * the decision) and schedules the history for writing. `keep` is the active policy's `agentHistoryReads`: tools it
   * names are forgotten last, and a call of one of them is written with the very next group commit (the one that
   * records the decision), not within the write interval, so another replica that loads the agent afterwards sees it.
   * `escalation` is the active policy's agent-wide progressive setting (`progressive.across: agent`), or null: a
   * violation is then written with the next commit too while the agent's count in the window is still below
   * `blockAfter` (once it is reached, further violations change no decision until older ones leave the window, and a
   * flood of them must not rewrite the agent's state with every commit). Returns true for a call the other replicas
   * must hear of ({@link apply}): a `keep` tool's call, and every violation under agent-wide escalation (their cached
   * counts must not fall behind when older violations leave the window).
   */
  record(
    entry: AgentHistoryEntry, toolName: string, at: number, decision: string, keep: ((toolName: string) => boolean) | null = null,
    violation = false, escalation: { readonly withinMs: number; readonly blockAfter: number } | null = null, violationCounted = false,
  ): boolean {
    if (decision === 'BLOCK' && !violation) return false;
    const escalates = violation && escalation !== null;
    const counted = violation && violationCounted ? 1 : 0;
    const below = escalates && agentViolationsSince(entry.history, at - escalation.withinMs) - counted < escalation.blockAfter;
    recordAgentCall(entry.history, toolName, at, { decision, violation: violation && counted === 0 }, this.limits(keep));
    if (this.entries.get(entry.key) !== entry) this.remember(entry); // dropped from the cache while its call was decided
    this.dirty.set(entry.key, entry);
    const kept = decision !== 'BLOCK' && keep !== null && keep(toolName);
    if (kept || below) this.urgent.add(entry.key);
    return kept || escalates;
  }

  /**
   * Counts a violation of the agent at once, before its call's outcome is known (holds are looked up in the store
   * first): another session's call of the same agent evaluated meanwhile already sees it, so concurrent calls cannot
   * all slip under agent-wide escalation. Pass `violationCounted` to {@link record} afterwards.
   */
  countViolation(entry: AgentHistoryEntry, at: number): void {
    recordAgentViolation(entry.history, at);
    if (this.entries.get(entry.key) !== entry) this.remember(entry);
    this.dirty.set(entry.key, entry);
  }

  /**
   * Applies a call announced by another replica to this replica's cached copy of the agent (nothing when the agent
   * is not cached: it is loaded from the store, where the announcing replica wrote it, when it is next needed).
   * Not marked dirty: the announcing replica writes it.
   */
  apply(
    tenantId: string, agentId: string, toolName: string, at: number, keep: ((toolName: string) => boolean) | null,
    outcome: { readonly decision: string; readonly violation: boolean } = { decision: 'ALLOW', violation: false },
  ): void {
    const entry = this.entries.get(`${tenantId}\n${agentId}`);
    if (entry === undefined) return;
    recordAgentCall(entry.history, toolName, at, outcome, this.limits(keep));
  }

  /**
   * Forgets the tenant's calls and violations before `cutoff` in memory (a data-retention pass deleted what the store
   * held of them), so no agent-wide rule matches on them any more.
   */
  forgetBefore(tenantId: string, cutoff: number): void {
    for (const entry of this.entries.values()) {
      if (entry.tenantId !== tenantId) continue;
      for (const [tool, at] of entry.history.lastCallAt) if (at < cutoff) entry.history.lastCallAt.delete(tool);
      const violations = entry.history.violations;
      let old = 0;
      while (old < violations.length && violations[old]! < cutoff) old += 1;
      if (old > 0) violations.splice(0, old);
    }
  }

  /** Puts agents back on the dirty list, e.g. after the write that carried them failed (written with the next commit). */
  markDirty(rows: ReadonlyArray<{ tenantId: string; agentId: string }>): void {
    for (const { tenantId, agentId } of rows) {
      const entry = this.entries.get(`${tenantId}\n${agentId}`);
      if (entry === undefined) continue;
      this.dirty.set(entry.key, entry);
      this.urgent.add(entry.key);
    }
  }

  /**
   * Serialized histories due for writing: each dirty agent at most once per write interval (all of them with `all`),
   * urgent ones at once. Called at every group commit: without an urgent one it looks through the dirty agents at most
   * every {@link NON_URGENT_SCAN_MS}.
   */
  takeDirty(now: number, all = false): AgentHistoryRow[] {
    if (this.dirty.size === 0) return [];
    const interval = this.deps.writeIntervalMs ?? DEFAULT_SESSION_WRITE_INTERVAL_MS;
    if (!all && this.urgent.size === 0 && now - this.scannedAt < Math.min(NON_URGENT_SCAN_MS, interval)) return [];
    this.scannedAt = now;
    const rows: AgentHistoryRow[] = [];
    for (const [key, entry] of this.dirty) {
      if (!all && !this.urgent.has(key) && now - (this.writtenAt.get(key) ?? 0) < interval) continue;
      this.dirty.delete(key);
      this.urgent.delete(key);
      if (this.writtenAt.size >= this.maxEntries) this.writtenAt.clear();
      this.writtenAt.set(key, now);
      rows.push({ tenantId: entry.tenantId, agentId: entry.agentId, state: JSON.stringify(serializeAgentHistory(entry.history, now)), updatedAt: now });
    }
    return rows;
  }

  /** True when some history still waits to be written. */
  hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  private limits(keep: ((toolName: string) => boolean) | null): CallHistoryLimits {
    return this.deps.maxTools === undefined ? { keep } : { keep, maxTools: this.deps.maxTools };
  }

  private get maxEntries(): number {
    return this.deps.maxEntries ?? DEFAULT_MAX_CACHED_AGENTS;
  }

  private remember(entry: AgentHistoryEntry): void {
    this.entries.set(entry.key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      if (this.dirty.has(oldest)) continue;
      this.entries.delete(oldest);
    }
  }
}
