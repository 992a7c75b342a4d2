import { merkle } from '@tollgate/core';
import type pg from 'pg';
import type { AppendOutcome, LedgerBatch, LedgerNative } from '../repositories/ledger-native.js';
import { cloneFrontier, nodePosition } from '../repositories/ledger-native.js';

/** First key of the two-key advisory lock that serialises appends per tenant across replicas. */
const LEDGER_LOCK_CLASS = 7_271_003;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

async function readNodes(client: pg.Pool | pg.PoolClient, tenantId: string, ids: readonly merkle.NodeId[]) {
  const found = new Map<string, Uint8Array>();
  const leaves = ids.filter((id) => id.level === 0).map((id) => id.index);
  const byPos = new Map(ids.filter((id) => id.level > 0).map((id) => [nodePosition(id), id]));
  if (leaves.length > 0) {
    const result = await client.query<{ idx: number; leaf_hash: Buffer }>(
      'SELECT idx, leaf_hash FROM ledger_records WHERE tenant_id = $1 AND idx = ANY($2::bigint[])',
      [tenantId, leaves],
    );
    for (const row of result.rows) found.set(`0:${Number(row.idx)}`, new Uint8Array(row.leaf_hash));
  }
  if (byPos.size > 0) {
    const result = await client.query<{ pos: number; hash: Buffer }>(
      'SELECT pos, hash FROM ledger_nodes WHERE tenant_id = $1 AND pos = ANY($2::bigint[])',
      [tenantId, [...byPos.keys()]],
    );
    for (const row of result.rows) {
      const id = byPos.get(Number(row.pos));
      if (id) found.set(merkle.nodeKey(id), new Uint8Array(row.hash));
    }
  }
  return found;
}

async function insert(client: pg.PoolClient, tenantId: string, batch: LedgerBatch): Promise<void> {
  const r = batch.records;
  // unnest() of parallel arrays: one statement per batch whatever its size (no parameter limit).
  await client.query(
    `INSERT INTO ledger_records (tenant_id, idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body, leaf_hash)
     SELECT $1, idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body, decode(leaf_hash, 'hex')
     FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[], $11::text[])
       AS t(idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body, leaf_hash)`,
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
      r.map((x) => hex(x.leafHash)),
    ],
  );
  if (batch.nodes.length === 0) return;
  await client.query(
    `INSERT INTO ledger_nodes (tenant_id, pos, hash)
     SELECT $1, pos, decode(hash, 'hex') FROM unnest($2::bigint[], $3::text[]) AS t(pos, hash)`,
    [tenantId, batch.nodes.map((n) => n.pos), batch.nodes.map((n) => hex(n.hash))],
  );
}

async function storedSize(client: pg.PoolClient, tenantId: string): Promise<number> {
  const result = await client.query<{ top: number | null }>('SELECT MAX(idx) AS top FROM ledger_records WHERE tenant_id = $1', [tenantId]);
  const top = result.rows[0]?.top;
  return top === null || top === undefined ? 0 : Number(top) + 1;
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
        const size = await storedSize(client, tenantId);
        const frontier =
          current !== undefined && current.size === size
            ? cloneFrontier(current)
            : merkle.MerkleFrontier.restore(size, merkle.readerFromMap(await readNodes(client, tenantId, merkle.rangeNodes({ start: 0, end: size }))));
        await insert(client, tenantId, build(frontier));
        await client.query('COMMIT');
        return { frontier, joinedOuterTransaction: false };
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
