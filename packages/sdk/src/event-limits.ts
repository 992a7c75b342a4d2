import type { BehavioralEvent } from './types.js';

/** Longest id or name the server accepts in an event (`agentId`, `toolName`, …; its `BehavioralEventSchema`). */
export const MAX_EVENT_NAME_CHARS = 256;
/** Longest `error` the server accepts in an event. */
export const MAX_EVENT_ERROR_CHARS = 10_000;
/** Ends a field that was cut to its wire limit. */
export const TRUNCATION_MARK = '…';

/** The fields limited to {@link MAX_EVENT_NAME_CHARS}. */
const NAME_FIELDS = ['agentId', 'tenantId', 'userId', 'sessionId', 'toolName', 'callId', 'decisionId'] as const;

/**
 * `text` cut to at most `max` UTF-16 units, ending with {@link TRUNCATION_MARK} when it was cut. Never splits a
 * surrogate pair. (The server counts code points, which are never more than UTF-16 units.)
 * @example
 * truncateText('abcdef', 4); // 'abc…'
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - TRUNCATION_MARK.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + TRUNCATION_MARK;
}

/**
 * The event with every field cut to the server's limits, so one long tool error or tool name does not get the whole
 * batch refused (400). `eventId` is left as it is: cut ids could collide, and the server deduplicates by it; an event
 * the server still refuses is isolated by the batcher. Returns the event itself when nothing needed cutting.
 * @example
 * fitEventToWire({ ...event, error: 'x'.repeat(20_000) }).error?.length; // 10000, ending in '…'
 */
export function fitEventToWire(event: BehavioralEvent): BehavioralEvent {
  let fitted: BehavioralEvent | undefined;
  const set = <K extends keyof BehavioralEvent>(field: K, value: BehavioralEvent[K]) => {
    fitted ??= { ...event };
    fitted[field] = value;
  };
  for (const field of NAME_FIELDS) {
    const value = event[field];
    if (typeof value === 'string' && value.length > MAX_EVENT_NAME_CHARS) set(field, truncateText(value, MAX_EVENT_NAME_CHARS));
  }
  if (typeof event.error === 'string' && event.error.length > MAX_EVENT_ERROR_CHARS) set('error', truncateText(event.error, MAX_EVENT_ERROR_CHARS));
  // The server wants a number ≥ 0; a clock set back during the call would make it negative.
  if (event.durationMs !== undefined && !(Number.isFinite(event.durationMs) && event.durationMs >= 0)) set('durationMs', 0);
  return fitted ?? event;
}
