import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

/**
 * What retention may delete: per table, its key, the column that dates a row, and which rows never go (a pending hold
 * waits for a person). Fixed here, never from input. The tamper-evident ledger is not among them, and neither are
 * the sandbox's executions (their signed statements are verified against them), keys, policies or agents.
 */
export const RETENTION_TARGETS = {
  decisions: { key: 'seq', time: 'ts', keep: null },
  violations: { key: 'seq', time: 'ts', keep: null },
  decision_outputs: { key: 'seq', time: 'ts', keep: null },
  events: { key: 'seq', time: 'ts', keep: null },
  event_sessions: { key: 'tenant_id, agent_id, session_id', time: 'last_ts', keep: null },
  holds: { key: 'tenant_id, id', time: 'expires_at', keep: "status = 'pending'" },
  enforcement_sessions: { key: 'tenant_id, session_id', time: 'updated_at', keep: null },
  enforcement_agent_histories: { key: 'tenant_id, agent_id', time: 'updated_at', keep: null },
} as const;

export type RetentionTarget = keyof typeof RETENTION_TARGETS;

export interface RetentionRepository {
  /**
   * Deletes up to `limit` rows of one tenant in `target` dated before `cutoff` (epoch ms); returns how many. Per
   * tenant, so each statement reads a range of a `(tenant_id, <time>…)` index (migration 0011) rather than the table.
   */
  deleteBefore(target: RetentionTarget, tenantId: string, cutoff: number, limit: number): Promise<number>;
}

/**
 * Chunked deletes for data retention, over both dialects (`DELETE … WHERE key IN (SELECT key … LIMIT n)`: neither
 * holds a table for long, and row-value `IN` works on SQLite ≥ 3.15 and PostgreSQL).
 *
 * @example
 * const deleted = await createRetentionRepository(db, 'sqlite').deleteBefore('decisions', cutoff, 5_000);
 */
export function createRetentionRepository(db: Kysely<Database>, _dialect: Dialect): RetentionRepository {
  return {
    async deleteBefore(target, tenantId, cutoff, limit) {
      const { key, time, keep } = RETENTION_TARGETS[target];
      const table = sql.raw(target);
      const keyList = sql.raw(key.includes(',') ? `(${key})` : key);
      const columns = sql.raw(key);
      const timeColumn = sql.raw(time);
      const kept = keep === null ? sql`` : sql` AND NOT (${sql.raw(keep)})`;
      const result = await sql`DELETE FROM ${table} WHERE ${keyList} IN (SELECT ${columns} FROM ${table} WHERE tenant_id = ${tenantId} AND ${timeColumn} < ${cutoff}${kept} LIMIT ${limit})`.execute(db);
      return Number(result.numAffectedRows ?? 0n);
    },
  };
}
