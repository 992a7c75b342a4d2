import { describe, expect, it } from 'vitest';
import { insertWithVisibleId, nextVisibleId } from './visible-ids.js';

describe('visible row ids', () => {
  it('are the millisecond × 1024 plus a random part, increasing, exact as JSON numbers until 2248', () => {
    const now = Date.UTC(2100, 0, 1);
    const first = nextVisibleId(now);
    expect(Math.floor(first / 1024)).toBe(now);
    // Many in one millisecond: still increasing, by random steps, so the span is not the number of rows.
    const ids = [first, ...Array.from({ length: 100 }, () => nextVisibleId(now))];
    const steps = ids.slice(1).map((id, i) => id - ids[i]!);
    for (const step of steps) expect(step).toBeGreaterThanOrEqual(1);
    expect(new Set(steps).size).toBeGreaterThan(20);
    expect(ids.at(-1)! - first).toBeGreaterThan(1000);
    expect(Number.isSafeInteger(nextVisibleId(Date.UTC(2248, 0, 1)))).toBe(true);
  });

  it('draws again when another writer took the id, and gives up after a few attempts', async () => {
    const tried: number[] = [];
    const row = await insertWithVisibleId('sandbox_agents', async (id) => {
      tried.push(id);
      return tried.length < 3 ? undefined : { id };
    });
    expect(tried).toHaveLength(3);
    expect(row).toEqual({ id: tried[2] });
    await expect(insertWithVisibleId('permission_requests', async () => undefined)).rejects.toThrow(/no free permission_requests id after 8 attempts/);
  });
});
