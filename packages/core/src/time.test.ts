import { describe, expect, it } from 'vitest';
import { parseIsoTime } from './time.js';

describe('parseIsoTime', () => {
  it('reads dates (UTC midnight, or the last millisecond of the day) and date-times with offsets', () => {
    expect(parseIsoTime('2026-02-01')).toBe(Date.UTC(2026, 1, 1));
    expect(parseIsoTime('2026-02-01', { endOfDay: true })).toBe(Date.UTC(2026, 1, 2) - 1);
    expect(parseIsoTime('2026-02-01T10:00:00Z')).toBe(Date.UTC(2026, 1, 1, 10));
    expect(parseIsoTime('2026-02-01T10:00:00+02:00')).toBe(Date.UTC(2026, 1, 1, 8));
    expect(parseIsoTime('2028-02-29')).toBe(Date.UTC(2028, 1, 29));
  });

  it('refuses what is not an ISO date or date-time, and days that do not exist', () => {
    for (const value of ['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-04-31T10:00:00Z', 'yesterday', '02/01/2026', '2026-2-1', '', '2026-02-01x', '2026-02-01T25:00:00Z']) {
      expect(parseIsoTime(value), value).toBeUndefined();
    }
  });
});
