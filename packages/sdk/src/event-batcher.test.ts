import { describe, expect, it } from 'vitest';
import { BASE_RETRY_DELAY_MS, backoffDelay } from './event-batcher.js';

describe('backoffDelay', () => {
  it('grows exponentially with full jitter and stays under the cap', () => {
    expect(backoffDelay(0, 30_000, () => 0.999)).toBe(Math.floor(0.999 * BASE_RETRY_DELAY_MS));
    expect(backoffDelay(3, 30_000, () => 0.5)).toBe(Math.floor(0.5 * BASE_RETRY_DELAY_MS * 8));
    expect(backoffDelay(40, 30_000, () => 0.999)).toBeLessThan(30_000);
    expect(backoffDelay(5, 30_000, () => 0)).toBe(0);
  });
});
