/** Source of the current time; services take one so tests can move time. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/**
 * The wall clock.
 *
 * @example
 * const clock = systemClock(); clock.now();
 */
export function systemClock(): Clock {
  return { now: () => Date.now() };
}

/** A clock tests can move. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/**
 * A clock that only moves when told to.
 *
 * @example
 * const clock = manualClock(Date.parse('2026-01-01T00:00:00Z')); clock.advance(60_000);
 */
export function manualClock(startMs: number = Date.now()): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}
