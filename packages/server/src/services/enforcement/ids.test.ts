import { describe, expect, it } from 'vitest';
import { IdGenerator } from './ids.js';

describe('IdGenerator', () => {
  it('gives unique, time-ordered ids with a 12-character random tail', () => {
    const ids = new IdGenerator();
    const made: string[] = [];
    for (let i = 0; i < 5_000; i += 1) made.push(ids.next('dec', 1_700_000_000_000 + Math.floor(i / 100)));
    expect(new Set(made).size).toBe(made.length);
    expect([...made].sort()).toEqual(made); // lexicographic order is creation order (the index stays append-only)
    for (const id of made) expect(id).toMatch(/^dec_[0-9a-z]{9}[0-9a-z]{4}[A-Za-z0-9_-]{12}$/);
    const tails = new Set(made.map((id) => id.slice(-12)));
    expect(tails.size).toBe(made.length);
  });

  it('does not count across tenants: gaps between ids say nothing about how many were made in between', () => {
    const ids = new IdGenerator();
    const counter = (id: string) => parseInt(id.slice(13, 17), 36);
    // Ids one millisecond apart with nothing made in between, and with 1,000 made in between: indistinguishable
    // in range (the counter restarts at random every millisecond).
    const quiet: number[] = [];
    for (let i = 0; i < 200; i += 1) quiet.push(counter(ids.next('dec', 1_700_000_100_000 + i)));
    expect(new Set(quiet).size).toBeGreaterThan(150);
    // Within one millisecond, steps are random (1 to 64), not 1.
    const steps: number[] = [];
    let previous = counter(ids.next('dec', 1_700_000_200_000));
    for (let i = 0; i < 500; i += 1) {
      const next = counter(ids.next('dec', 1_700_000_200_000));
      steps.push(next - previous);
      previous = next;
    }
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...steps)).toBeLessThanOrEqual(64);
    expect(new Set(steps).size).toBeGreaterThan(20);
  });
});
