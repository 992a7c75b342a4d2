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
