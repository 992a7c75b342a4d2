import { describe, expect, it } from 'vitest';
import type { OutputRecord } from '../../store/repositories/decisions.js';
import { AgentHistoryCache } from './agent-history-cache.js';
import { AgentTaintCache, RELOAD_OVERLAP_MS, readAgentTaintAnnouncement } from './agent-taint-cache.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;

type Row = OutputRecord & { seq: number };

/** The store's contract (`DecisionRepository.agentOutputs`) over an array: newest first by (ts, seq), keyset paging. */
function outputsTable() {
  const rows: Row[] = [];
  const queries: Array<{ agentId: string; since: number }> = [];
  let failNext = false;
  return {
    rows, queries,
    failOnce() { failNext = true; },
    add(agentId: string, ts: number, fingerprints: string[], labels = ['pii']) {
      rows.push({ tenantId: 't', decisionId: `out_${rows.length}`, agentId, sessionId: 's', toolName: 'read', ts, decision: 'ALLOW', reason: 'ok', taints: { added: fingerprints.map((fp) => [fp, labels]), windowSizes: [1] }, seq: rows.length + 1 });
    },
    async load(tenantId: string, agentId: string, query: { since: number; before?: { ts: number; seq: number } | undefined; limit: number }): Promise<Row[]> {
      queries.push({ agentId, since: query.since });
      if (failNext) { failNext = false; throw new Error('database unavailable'); }
      const before = query.before;
      return rows.filter((row) => row.tenantId === tenantId && row.agentId === agentId && row.ts >= query.since
        && (before === undefined || row.ts < before.ts || (row.ts === before.ts && row.seq < before.seq)))
        .sort((a, b) => b.ts - a.ts || b.seq - a.seq).slice(0, query.limit);
    },
  };
}

async function setup(options: { maxValues?: number; maxPerAgent?: number } = {}) {
  const table = outputsTable();
  const histories = new AgentHistoryCache({ load: async () => undefined });
  const cache = new AgentTaintCache({ load: (tenantId, agentId, query) => table.load(tenantId, agentId, query), ...options });
  return { table, histories, cache };
}

describe('AgentTaintCache', () => {
  it('loads the last 30 days of an agent\'s outputs once, even for calls that arrive together', async () => {
    const { table, histories, cache } = await setup();
    table.add('bot', NOW - 31 * DAY, ['too-old']);
    table.add('bot', NOW - DAY, ['a']);
    table.add('other', NOW - DAY, ['b']);
    const entry = await histories.load('t', 'bot');
    const [first, second] = await Promise.all([cache.ensure(entry, NOW), cache.ensure(entry, NOW)]);
    expect(first).toBe(second);
    expect([...first.entries.keys()]).toEqual(['a']);
    expect(table.queries).toEqual([{ agentId: 'bot', since: NOW - 30 * DAY }]);
    await cache.ensure(entry, NOW);
    expect(table.queries).toHaveLength(1); // in memory from then on
  });

  it('reads page after page, newest first, up to the per-agent bound, and keeps the most recent values', async () => {
    const { table, histories, cache } = await setup({ maxPerAgent: 500 });
    for (let i = 0; i < 700; i += 1) table.add('bot', NOW - DAY + i, [`fp${i}`]);
    const taints = await cache.ensure(await histories.load('t', 'bot'), NOW);
    expect(taints.entries.size).toBe(500);
    expect(taints.entries.has('fp699')).toBe(true);
    expect(taints.entries.has('fp199')).toBe(false);
    expect(table.queries.length).toBeGreaterThan(1);
    expect(table.queries.length).toBeLessThan(5); // stops once it has enough
  });

  it('applies this replica\'s outputs in memory, also those that arrive while the agent loads', async () => {
    const { table, histories, cache } = await setup();
    const entry = await histories.load('t', 'bot');
    const loading = cache.ensure(entry, NOW);
    cache.add(entry, [['during-load', ['pii']]], [1], NOW);
    const taints = await loading;
    expect(taints.entries.get('during-load')).toEqual({ labels: ['pii'], at: NOW });
    cache.add(entry, [['later', ['pii']]], [2], NOW + 1);
    expect(taints.entries.has('later')).toBe(true);
    expect(taints.windowSizes.has(2)).toBe(true);
    expect(table.queries).toHaveLength(1);
    // An agent whose values are not in memory: nothing to update (they are read from the store when needed).
    const cold = await histories.load('t', 'cold');
    cache.add(cold, [['x', ['pii']]], [1], NOW);
    expect(cold.history.taints).toBeUndefined();
  });

  it('after another replica\'s announcement, reads only the rows since the newest it has (with an overlap)', async () => {
    const { table, histories, cache } = await setup();
    table.add('bot', NOW - 1_000, ['a']);
    const entry = await histories.load('t', 'bot');
    await cache.ensure(entry, NOW);
    table.add('bot', NOW + 5_000, ['from-the-other-replica']);
    cache.markStale('t', 'bot');
    const taints = await cache.ensure(entry, NOW + 6_000);
    expect(taints.entries.has('from-the-other-replica')).toBe(true);
    expect(table.queries.at(-1)).toEqual({ agentId: 'bot', since: NOW - 1_000 - RELOAD_OVERLAP_MS });
    cache.markStale('t', 'never-loaded'); // harmless
  });

  it('a failed read fails the call (closed) and is retried by the next one', async () => {
    const { table, histories, cache } = await setup();
    table.add('bot', NOW - 1_000, ['a']);
    const entry = await histories.load('t', 'bot');
    table.failOnce();
    await expect(cache.ensure(entry, NOW)).rejects.toThrow('database unavailable');
    expect([...(await cache.ensure(entry, NOW)).entries.keys()]).toEqual(['a']);
  });

  it('holds at most maxValues over all agents, dropping the least recently used agents\' values (reloaded on demand)', async () => {
    const { table, histories, cache } = await setup({ maxValues: 250 });
    for (const agent of ['a', 'b', 'c']) table.add(agent, NOW - 1_000, Array.from({ length: 100 }, (_, i) => `${agent}${i}`));
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((agent) => histories.load('t', agent)));
    await cache.ensure(a!, NOW);
    await cache.ensure(b!, NOW);
    expect(cache.size).toBe(200);
    await cache.ensure(c!, NOW);
    expect(cache.size).toBe(200);
    expect(a!.history.taints).toBeUndefined(); // least recently used
    expect(b!.history.taints?.entries.size).toBe(100);
    expect((await cache.ensure(a!, NOW)).entries.size).toBe(100); // read again
    expect(cache.size).toBeLessThanOrEqual(250);
  });

  it('an agent history loaded anew (dropped from its cache) starts over instead of sharing stale state', async () => {
    const { table, histories, cache } = await setup();
    table.add('bot', NOW - 1_000, ['a']);
    const entry = await histories.load('t', 'bot');
    await cache.ensure(entry, NOW);
    const reloaded = { ...entry, history: { lastCallAt: new Map<string, number>(), violations: [] } };
    expect([...(await cache.ensure(reloaded, NOW)).entries.keys()]).toEqual(['a']);
    expect(entry.history.taints).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('reads announcements defensively', () => {
    expect(readAgentTaintAnnouncement({ tenantId: 't', agentId: 'a', origin: 'r1' })).toEqual({ tenantId: 't', agentId: 'a', origin: 'r1' });
    expect(readAgentTaintAnnouncement({ tenantId: 't', agentId: 'a' })).toEqual({ tenantId: 't', agentId: 'a', origin: '' });
    for (const bad of [null, 'x', 7, {}, { tenantId: 't' }, { tenantId: 1, agentId: 'a' }]) expect(readAgentTaintAnnouncement(bad)).toBeUndefined();
  });
});

describe('AgentTaintCache under a stream of announcements', () => {
  it('a call waits for a read already under way and then reads once more at most, however many announcements arrive', async () => {
    const table = outputsTable();
    const histories = new AgentHistoryCache({ load: async () => undefined });
    let reads = 0;
    const cache: AgentTaintCache = new AgentTaintCache({
      load: async (tenantId, agentId, query) => {
        reads += 1;
        const rows = await table.load(tenantId, agentId, query);
        // Every read races with another replica's output: committed and announced while the read runs.
        table.add('bot', NOW + reads, [`announced-during-read-${reads}`]);
        cache.markStale('t', 'bot');
        await new Promise((resolve) => setTimeout(resolve, 1));
        return rows;
      },
    });
    const entry = await histories.load('t', 'bot');
    table.add('bot', NOW, ['before-the-calls']);
    const first = cache.ensure(entry, NOW);
    const second = cache.ensure(entry, NOW); // arrives while the first read runs
    const [a, b] = await Promise.all([first, second]);
    expect(reads).toBe(2); // the first call's read, and one more for the second call; not one per announcement
    expect(a.entries.has('before-the-calls')).toBe(true);
    expect(b.entries.has('announced-during-read-1')).toBe(true); // announced before the second call's own read
    await cache.ensure(entry, NOW);
    expect(reads).toBe(3); // the announcement during the second read is read by the next call
    expect(b.entries.has('announced-during-read-2')).toBe(true);
  });
});
