import { describe, expect, it } from 'vitest';
import { RateCounters } from './rate-counters.js';

describe('RateCounters', () => {
  it('stays within its limit when nothing has expired, and reloads a dropped counter from the store', async () => {
    const stored = new Map<string, number>();
    const counters = new RateCounters({ load: async (_tenant, keys) => new Map(keys.filter((key) => stored.has(key)).map((key) => [key, stored.get(key)!])), maxEntries: 100 });
    const now = 1_000_000;
    const keyOf = (i: number) => `emails|session:s-${i}|3600000:0`; // one window for all: nothing expires
    for (let i = 0; i < 1_000; i += 1) {
      const row = counters.increment('t', keyOf(i), now);
      stored.set(row.key, (stored.get(row.key) ?? 0) + row.increment); // what the group commit adds
    }
    // Bounded: the oldest were dropped (each prune goes down to 90%, so later inserts do not prune every time).
    expect(counters.peek('t', keyOf(999))).toBe(1);
    expect(counters.peek('t', keyOf(0))).toBeUndefined();
    let known = 0;
    for (let i = 0; i < 1_000; i += 1) if (counters.peek('t', keyOf(i)) !== undefined) known += 1;
    expect(known).toBeLessThanOrEqual(100);
    expect(known).toBeGreaterThanOrEqual(90);
    // The dropped counter's count comes back from the store before it is used (the enforcer calls ensure first).
    expect(await counters.ensure('t', [keyOf(0)], now)).toBe(true);
    expect(counters.peek('t', keyOf(0))).toBe(1);
  });

  it('drops expired counters first', () => {
    const counters = new RateCounters({ load: async () => new Map(), maxEntries: 10 });
    for (let i = 0; i < 10; i += 1) counters.increment('t', `r|agent:a|1000:${i}`, 0); // windows 0..9 of 1 s
    counters.increment('t', 'r|agent:a|1000:20', 20_500); // the 11th: prunes; windows before 20 have ended
    expect(counters.peek('t', 'r|agent:a|1000:20')).toBe(1);
    for (let i = 0; i < 10; i += 1) expect(counters.peek('t', `r|agent:a|1000:${i}`)).toBeUndefined();
  });
});
