import { setImmediate as nextTurn } from 'node:timers/promises';
import type { DecisionRepository } from '../../store/repositories/decisions.js';

/** How often expired rate-limit counters are deleted from the store. */
export const COUNTER_SWEEP_INTERVAL_MS = 300_000;
/** Counters deleted per statement group; the sweep yields to other requests between groups. */
export const COUNTER_SWEEP_CHUNK = 2_000;

/**
 * Deletes every rate-limit counter whose window has ended, a chunk at a time with a turn of the event loop between
 * chunks (on SQLite each statement holds the event loop). Each counter is a row per rule, subject and window, so
 * without this the table grew by a row for every new session or user a `per: session` / `per: user` limit counted.
 *
 * @example
 * const deleted = await sweepExpiredCounters(store.decisions, Date.now());
 */
export async function sweepExpiredCounters(
  decisions: Pick<DecisionRepository, 'deleteExpiredCounters'>, now: number, chunk = COUNTER_SWEEP_CHUNK,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await decisions.deleteExpiredCounters(now, chunk);
    total += deleted;
    if (deleted < chunk) return total;
    await nextTurn();
  }
}
