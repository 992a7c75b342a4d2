import { merkle } from '@tollgate/core';
import type pg from 'pg';
import type { AppendOutcome, LedgerBatch, LedgerNative } from '../repositories/ledger-native.js';
import { assembleNodes, planNodeReads, resolveTail } from '../repositories/ledger-native.js';

/** First key of the two-key advisory lock that serialises appends per tenant across replicas. */
const LEDGER_LOCK_CLASS = 7_271_003;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

async function readNodes(client: pg.Pool | pg.PoolClient, tenantId: string, ids: readonly merkle.NodeId[]) {
  const plan = planNodeReads(ids);
  const bodies = new Map<number, string>();
  const stored = new Map<number, Uint8Array>();
  if (plan.leafIndexes.length > 0) {
    const result = await client.query<{ idx: number; body: string }>(
      'SELECT idx, body FROM ledger_records WHERE tenant_id = $1 AND idx = ANY($2::bigint[])',
      [tenantId, plan.leafIndexes],
    );
    for (const row of result.rows) bodies.set(Number(row.idx), row.body);
  }
  if (plan.positions.length > 0) {
    const result = await client.query<{ pos: number; hash: Buffer }>(
      'SELECT pos, hash FROM ledger_nodes WHERE tenant_id = $1 AND pos = ANY($2::bigint[])',
      [tenantId, plan.positions],
    );
    for (const row of result.rows) stored.set(Number(row.pos), new Uint8Array(row.hash));
  }
  return assembleNodes(ids, bodies, stored);
}

async function insert(client: pg.PoolClient, tenantId: string, batch: LedgerBatch): Promise<void> {
  const r = batch.records;
  // unnest() of parallel arrays: one statement per batch whatever its size (no parameter limit).
  await client.query(
    `INSERT INTO ledger_records (tenant_id, idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body)
     SELECT $1, idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body
     FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[])
       AS t(idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body)`,
    [
      tenantId,
      r.map((x) => x.index),
      r.map((x) => x.recordedAt),
      r.map((x) => x.type),
      r.map((x) => x.actor),
      r.map((x) => x.agentId),
      r.map((x) => x.executionId),
      r.map((x) => x.sessionId),
      r.map((x) => (x.isViolation ? 1 : 0)),
      r.map((x) => x.body),
    ],
  );
  if (batch.nodes.length === 0) return;
  await client.query(
    `INSERT INTO ledger_nodes (tenant_id, pos, hash)
     SELECT $1, pos, decode(hash, 'hex') FROM unnest($2::bigint[], $3::text[]) AS t(pos, hash)`,
    [tenantId, batch.nodes.map((n) => n.pos), batch.nodes.map((n) => hex(n.hash))],
  );
}

async function storedTail(client: pg.PoolClient, tenantId: string): Promise<{ size: number; lastRecordedAt: number }> {
  const result = await client.query<{ idx: number; recorded_at: number }>(
    'SELECT idx, recorded_at FROM ledger_records WHERE tenant_id = $1 ORDER BY idx DESC LIMIT 1',
    [tenantId],
  );
  const last = result.rows[0];
  return last === undefined ? { size: 0, lastRecordedAt: 0 } : { size: Number(last.idx) + 1, lastRecordedAt: Number(last.recorded_at) };
}

/**
 * PostgreSQL ledger paths on a dedicated pool client: a transaction-scoped advisory lock per tenant orders
 * appends of every replica, and the stored size decides whether the cached frontier is still current.
 * @example const native = createPostgresLedgerNative(pool);
 */
export function createPostgresLedgerNative(pool: pg.Pool): LedgerNative {
  return {
    async appendBatch(tenantId, current, build): Promise<AppendOutcome> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LEDGER_LOCK_CLASS, tenantId]);
        const tail = await resolveTail(current, await storedTail(client, tenantId), (ids) => readNodes(client, tenantId, ids));
        const batch = build(tail);
        await insert(client, tenantId, batch);
        await client.query('COMMIT');
        const last = batch.records.at(-1);
        return { frontier: tail.frontier, lastRecordedAt: last === undefined ? tail.lastRecordedAt : last.recordedAt, joinedOuterTransaction: false };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    readNodes: (tenantId, ids) => readNodes(pool, tenantId, ids),
  };
}
