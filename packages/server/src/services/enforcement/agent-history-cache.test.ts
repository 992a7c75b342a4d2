import { describe, expect, it } from 'vitest';
import { AgentHistoryCache } from './agent-history-cache.js';

const HOUR = 3_600_000;
const escalation = { withinMs: HOUR, blockAfter: 2 };

describe('AgentHistoryCache and agent-wide escalation', () => {
  it('writes a violation with the next commit while the count is below blockAfter, then at most once per interval; announces every one', async () => {
    const cache = new AgentHistoryCache({ load: async () => undefined, writeIntervalMs: 1_000 });
    const entry = await cache.load('t', 'bot');
    const violations = (rows: ReturnType<AgentHistoryCache['takeDirty']>) => rows.map((row) => (JSON.parse(row.state) as { violations?: number[] }).violations?.length ?? 0);

    expect(cache.record(entry, 'drop_tables', 10, 'STEP_UP', null, true, escalation)).toBe(true);
    expect(violations(cache.takeDirty(10))).toEqual([1]);
    expect(cache.record(entry, 'drop_tables', 20, 'BLOCK', null, true, escalation)).toBe(true);
    expect(violations(cache.takeDirty(20))).toEqual([2]); // the 2nd still changes decisions: urgent
    // From the blockAfter-th on, a flood of violations is announced but not rewritten with every commit.
    for (let at = 30; at < 130; at += 1) expect(cache.record(entry, 'drop_tables', at, 'BLOCK', null, true, escalation)).toBe(true);
    expect(cache.takeDirty(200)).toEqual([]);
    expect(cache.hasDirty()).toBe(true);
    expect(violations(cache.takeDirty(1_100))).toEqual([102]); // written within the interval
  });

  it('without agent-wide escalation a violation is neither urgent nor announced', async () => {
    const cache = new AgentHistoryCache({ load: async () => undefined, writeIntervalMs: 1_000 });
    const entry = await cache.load('t', 'bot');
    cache.takeDirty(0, true);
    expect(cache.record(entry, 'drop_tables', 10, 'BLOCK', null, true, null)).toBe(false);
    expect(cache.takeDirty(500)).toEqual([]);
    expect(entry.history.violations).toEqual([10]); // still counted, for a policy that starts counting agent-wide
  });

  it('a violation older than the window does not count towards the threshold', async () => {
    const cache = new AgentHistoryCache({ load: async () => undefined, writeIntervalMs: 1_000 });
    const entry = await cache.load('t', 'bot');
    cache.record(entry, 'x', 0, 'STEP_UP', null, true, escalation);
    cache.record(entry, 'x', 1, 'BLOCK', null, true, escalation);
    cache.takeDirty(2);
    cache.record(entry, 'x', 2 * HOUR, 'STEP_UP', null, true, escalation); // the two above left the window: urgent again
    expect(cache.takeDirty(2 * HOUR)).toHaveLength(1);
  });
});
