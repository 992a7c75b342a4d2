import { describe, expect, it } from 'vitest';
import { recordLabeledTaintsInPlace } from '@tollgate/core';
import { LARGE_SESSION_TAINTS, SessionCache } from './session-cache.js';

const taints = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ fingerprint: `f${from + i}`, words: 1, labels: ['pii'] }));

describe('SessionCache writes', () => {
  it('writes an urgent change of a small session with the next commit, every time', async () => {
    const cache = new SessionCache({ load: async () => undefined, writeIntervalMs: 1_000 });
    for (const now of [10_000, 10_050, 10_100]) {
      await cache.withSession('t', 's', 'bot', async (entry) => {
        recordLabeledTaintsInPlace(entry.state, taints(now, 1));
      });
      cache.markDirty('t', 's', true);
      expect(cache.takeDirty(now).map((row) => row.sessionId)).toEqual(['s']);
    }
  });

  it('writes a session holding many remembered values at most once per interval, even when urgent, and never loses it', async () => {
    const cache = new SessionCache({ load: async () => undefined, writeIntervalMs: 1_000 });
    const add = (from: number, count: number) => cache.withSession('t', 'big', 'bot', async (entry) => {
      recordLabeledTaintsInPlace(entry.state, taints(from, count));
    });
    await add(0, LARGE_SESSION_TAINTS + 1);
    cache.markDirty('t', 'big', true);
    const first = cache.takeDirty(20_000);
    expect(first).toHaveLength(1);
    await add(50_000, 1);
    cache.markDirty('t', 'big', true);
    expect(cache.takeDirty(20_100)).toEqual([]); // deferred, still dirty
    expect(cache.hasDirty()).toBe(true);
    const later = cache.takeDirty(21_000);
    expect(later).toHaveLength(1);
    expect(JSON.parse(later[0]!.state).taints.some(([fingerprint]: [string]) => fingerprint === 'f50000')).toBe(true);
    // On shutdown everything is written, whatever the interval.
    await add(60_000, 1);
    cache.markDirty('t', 'big', true);
    expect(cache.takeDirty(21_001, true)).toHaveLength(1);
  });

  it('writes a session whose only change is its last-call times once its interval has passed', async () => {
    const cache = new SessionCache({ load: async () => undefined, writeIntervalMs: 1_000 });
    await cache.withSession('t', 'quiet', 'bot', async () => undefined);
    cache.markDirty('t', 'quiet', true);
    expect(cache.takeDirty(10_000)).toHaveLength(1);
    cache.markDirty('t', 'quiet', false);
    expect(cache.takeDirty(10_500)).toEqual([]);
    expect(cache.takeDirty(10_550)).toEqual([]);
    expect(cache.hasDirty()).toBe(true);
    expect(cache.takeDirty(11_000)).toHaveLength(1);
    expect(cache.hasDirty()).toBe(false);
  });
});

describe('SessionCache after a data-retention pass', () => {
  it('drops the tenant\'s settled sessions (reloaded from the store), never one with unwritten changes or a call in flight', async () => {
    const stored = new Map<string, string>();
    let loads = 0;
    const cache = new SessionCache({ load: async (tenantId, sessionId) => { loads += 1; return stored.get(`${tenantId}/${sessionId}`); }, writeIntervalMs: 1_000 });
    const touch = (tenantId: string, sessionId: string) => cache.withSession(tenantId, sessionId, 'bot', async (entry) => {
      recordLabeledTaintsInPlace(entry.state, taints(0, 1));
    });
    for (const id of ['settled', 'dirty', 'busy']) await touch('t', id);
    await touch('other', 'settled');
    cache.takeDirty(10_000, true); // everything written
    await touch('t', 'dirty');
    cache.markDirty('t', 'dirty', false); // an unwritten change
    let release!: () => void;
    const inFlight = cache.withSession('t', 'busy', 'bot', () => new Promise<void>((resolve) => { release = resolve; }));
    expect(cache.forgetTenant('t')).toBe(1);
    release();
    await inFlight;
    loads = 0;
    let seen = -1;
    await cache.withSession('t', 'settled', 'bot', async (entry) => { seen = entry.state.taints.size; });
    expect([loads, seen]).toEqual([1, 0]); // reloaded: the store no longer holds it (the pass deleted it)
    for (const [tenantId, id] of [['t', 'dirty'], ['t', 'busy'], ['other', 'settled']] as const) {
      await cache.withSession(tenantId, id, 'bot', async (entry) => { seen = entry.state.taints.size; });
      expect(seen).toBe(1);
    }
    expect(loads).toBe(1);
    expect(cache.takeDirty(20_000, true).map((row) => row.sessionId)).toContain('dirty'); // its change still goes out
  });
});
