import { randomInt } from 'node:crypto';

/** Random values per millisecond: the id is `ms × 1024 + r`. */
const PER_MS = 1024;
/** Attempts before an insert gives up on colliding ids (two replicas drawing the same id in the same ms). */
const ATTEMPTS = 8;

let last = 0;

/** The tables whose ids {@link nextVisibleId} draws. */
export type VisibleIdTable = 'sandbox_agents' | 'sandbox_executions' | 'permission_requests';

/**
 * The next id of a row a tenant sees as a number: sandbox agents, sandbox executions and permission requests (the
 * seed's API has `agent.id: 1234`). A sequence shared by every tenant would tell a tenant, from two of its own ids,
 * how many rows all other tenants created in between. These ids are the current millisecond × 1024 plus a random
 * part instead; within a process they increase (by a random step of 1–256 when the random part would not), so
 * newest-first still sorts by id, and each is above every sequence number of rows stored before this scheme. They
 * reveal little beyond the row's own timestamp, and stay below 2^53 (exact in JSON and JavaScript) until the year
 * 2248. Two replicas can draw the same id in one millisecond: {@link insertWithVisibleId} draws again.
 *
 * @example
 * nextVisibleId(); // 1_848_110_000_123_456 (about 1.8e15 in 2026)
 */
export function nextVisibleId(now = Date.now()): number {
  last = Math.max(now * PER_MS + randomInt(PER_MS), last + 1 + randomInt(256));
  return last;
}

/**
 * Runs `insert` with a fresh id until it stores a row: `insert` must use `ON CONFLICT (id) DO NOTHING` and return
 * undefined when nothing was stored (another replica took that id in the same millisecond). Other unique
 * constraints still throw.
 *
 * @example
 * const row = await insertWithVisibleId('sandbox_agents', (id) => db.insertInto('t').values({ id, … }).onConflict((c) => c.column('id').doNothing()).returningAll().executeTakeFirst());
 */
export async function insertWithVisibleId<T>(table: VisibleIdTable, insert: (id: number) => Promise<T | undefined>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const row = await insert(nextVisibleId());
    if (row !== undefined) return row;
    if (attempt >= ATTEMPTS) throw new Error(`no free ${table} id after ${ATTEMPTS} attempts`);
  }
}
