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
});
