import { describe, expect, it } from 'vitest';
import { retryAfterHeader } from './errors.js';

describe('retryAfterHeader', () => {
  it.each([
    [429, { retryAfter: 3000 }, '3000'],
    [429, { retryAfter: 2.2 }, '3'],
    [429, { retryAfter: 0 }, '1'],
    [503, { retryAfter: 30 }, '30'],
    [429, { retryAfter: '30' }, undefined],
    [429, { retryAfter: -5 }, undefined],
    [429, { retryAfter: Number.POSITIVE_INFINITY }, undefined],
    [429, undefined, undefined],
    [429, [{ field: 'x' }], undefined],
    [400, { retryAfter: 5 }, undefined],
    [409, { retryAfter: 5 }, undefined],
  ])('status %i with details %j gives %s', (status, details, expected) => {
    expect(retryAfterHeader(status, details)).toBe(expected);
  });
});
