import { describe, expect, it } from 'vitest';
import { MAX_EVENT_ERROR_CHARS, MAX_EVENT_NAME_CHARS, TRUNCATION_MARK, fitEventToWire, truncateText } from './event-limits.js';
import type { BehavioralEvent } from './types.js';

// Regression: an event over the server's limits (a tool error echoing a 10 kB input) got its whole batch refused.
function event(overrides: Partial<BehavioralEvent> = {}): BehavioralEvent {
  return {
    eventId: crypto.randomUUID(), eventType: 'TOOL_CALL_POST', sourceType: 'SDK', agentId: 'a', userId: 'system', sessionId: 's',
    toolName: 'parse_doc', callId: crypto.randomUUID(), timestamp: new Date().toISOString(), redaction: 'full', ...overrides,
  };
}

describe('truncateText', () => {
  it.each([
    ['short text is kept', 'abc', 5, 'abc'],
    ['text at the limit is kept', 'abcde', 5, 'abcde'],
    ['longer text is cut and marked', 'abcdefg', 5, `abcd${TRUNCATION_MARK}`],
    ['a surrogate pair is never split', `abc\u{1F600}defg`, 5, `abc${TRUNCATION_MARK}`],
  ])('%s', (_name, text, max, expected) => {
    expect(truncateText(text, max)).toBe(expected);
    expect(truncateText(text, max).length).toBeLessThanOrEqual(max);
  });
});

describe('fitEventToWire', () => {
  it('cuts the error and every id or name to the wire limits, and marks the cut', () => {
    const long = 'x'.repeat(MAX_EVENT_NAME_CHARS + 1);
    const fitted = fitEventToWire(event({ error: 'e'.repeat(MAX_EVENT_ERROR_CHARS + 50), toolName: long, agentId: long, userId: long, sessionId: long, callId: long, decisionId: long, tenantId: long }));
    expect(fitted.error).toHaveLength(MAX_EVENT_ERROR_CHARS);
    expect(fitted.error?.endsWith(TRUNCATION_MARK)).toBe(true);
    for (const field of ['toolName', 'agentId', 'userId', 'sessionId', 'callId', 'decisionId', 'tenantId'] as const) {
      expect(fitted[field]).toHaveLength(MAX_EVENT_NAME_CHARS);
      expect(fitted[field]?.endsWith(TRUNCATION_MARK)).toBe(true);
    }
  });

  it('returns an event within the limits as it is, and never changes the event it was given', () => {
    const fine = event({ error: 'short' });
    expect(fitEventToWire(fine)).toBe(fine);
    const long = event({ error: 'e'.repeat(MAX_EVENT_ERROR_CHARS + 1) });
    fitEventToWire(long);
    expect(long.error).toHaveLength(MAX_EVENT_ERROR_CHARS + 1);
  });

  it.each([-5, Number.NaN, Number.POSITIVE_INFINITY])('a durationMs of %s becomes 0', (durationMs) => {
    expect(fitEventToWire(event({ durationMs })).durationMs).toBe(0);
  });
});
