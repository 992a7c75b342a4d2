/** A place taken by {@link InFlightCounts.take}. */
export interface InFlightPlace {
  /** How many places of the key were taken, and not given back, before this one. */
  readonly before: number;
  /** Gives the place back (calling it again does nothing). */
  release(): void;
}

/**
 * Counts, per key, what this process holds at once: rows it is creating but has not written yet (below), or open
 * streams (`StreamSlots`). A cap checked against the store alone
 * ("fewer than N pending, so create one") lets concurrent creators all read the same count and all create; taking a
 * place before asking the store, and adding the places taken before it, makes each creator count the others. A row
 * written while the store is asked may be counted twice (refusing one early, never admitting one too many). The
 * count is per process: replicas of one database can each admit up to the cap's remainder at the same moment.
 *
 * @example
 * const place = inFlight.take(`${tenantId}\n${agentId}`);
 * try {
 *   if ((await store.countPending(tenantId, agentId)) + place.before >= cap) throw refused();
 *   await store.create(…);
 * } finally {
 *   place.release();
 * }
 */
export class InFlightCounts {
  readonly #counts = new Map<string, number>();

  take(key: string): InFlightPlace {
    const before = this.#counts.get(key) ?? 0;
    this.#counts.set(key, before + 1);
    let released = false;
    return {
      before,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#counts.get(key) ?? 1) - 1;
        if (left > 0) this.#counts.set(key, left);
        else this.#counts.delete(key);
      },
    };
  }
}
