import { merkle } from '@tollgate/core';
import type BetterSqlite3 from 'better-sqlite3';
import type { AppendOutcome, LedgerBatch, LedgerNative, LogTail } from '../repositories/ledger-native.js';
import { assembleNodes, cloneFrontier, planNodeReads } from '../repositories/ledger-native.js';

/** How long an append waits for a transaction open on the shared connection before joining it. */
const OUTER_TRANSACTION_WAIT_MS = 200;

interface Statements {
  last: BetterSqlite3.Statement<[string], { idx: number; recorded_at: number }>;
  leaves: BetterSqlite3.Statement<[string, string], { idx: number; body: string }>;
  nodes: BetterSqlite3.Statement<[string, string], { pos: number; hash: Buffer }>;
  insertRecord: BetterSqlite3.Statement<unknown[]>;
  insertNode: BetterSqlite3.Statement<unknown[]>;
}

function prepare(database: BetterSqlite3.Database): Statements {
  return {
    last: database.prepare('SELECT idx, recorded_at FROM ledger_records WHERE tenant_id = ? ORDER BY idx DESC LIMIT 1'),
    leaves: database.prepare('SELECT idx, body FROM ledger_records WHERE tenant_id = ? AND idx IN (SELECT value FROM json_each(?))'),
    nodes: database.prepare('SELECT pos, hash FROM ledger_nodes WHERE tenant_id = ? AND pos IN (SELECT value FROM json_each(?))'),
    insertRecord: database.prepare(
      `INSERT INTO ledger_records (tenant_id, idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertNode: database.prepare('INSERT INTO ledger_nodes (tenant_id, pos, hash) VALUES (?, ?, ?)'),
  };
}

/**
 * SQLite ledger paths on better-sqlite3, synchronous inside one transaction (nothing can interleave). When a
 * caller's transaction is already open on the shared connection, better-sqlite3 nests ours as a savepoint.
 * @example const native = createSqliteLedgerNative(database);
 */
export function createSqliteLedgerNative(database: BetterSqlite3.Database): LedgerNative {
  let statements: Statements | undefined;
  const stmts = () => (statements ??= prepare(database));

  const readNodesSync = (tenantId: string, ids: readonly merkle.NodeId[]): Map<string, Uint8Array> => {
    const plan = planNodeReads(ids);
    const bodies = new Map<number, string>();
    const stored = new Map<number, Uint8Array>();
    if (plan.leafIndexes.length > 0) {
      for (const row of stmts().leaves.all(tenantId, JSON.stringify(plan.leafIndexes))) bodies.set(Number(row.idx), row.body);
    }
    if (plan.positions.length > 0) {
      for (const row of stmts().nodes.all(tenantId, JSON.stringify(plan.positions))) stored.set(Number(row.pos), new Uint8Array(row.hash));
    }
    return assembleNodes(ids, bodies, stored);
  };

  const storedTail = (tenantId: string): { size: number; lastRecordedAt: number } => {
    const last = stmts().last.get(tenantId);
    return last === undefined ? { size: 0, lastRecordedAt: 0 } : { size: Number(last.idx) + 1, lastRecordedAt: Number(last.recorded_at) };
  };

  const insert = (tenantId: string, batch: LedgerBatch): void => {
    const { insertRecord, insertNode } = stmts();
    for (const r of batch.records) {
      insertRecord.run(tenantId, r.index, r.recordedAt, r.type, r.actor, r.agentId, r.executionId, r.sessionId, r.isViolation ? 1 : 0, r.body);
    }
    for (const n of batch.nodes) insertNode.run(tenantId, n.pos, n.hash);
  };

  return {
    async appendBatch(tenantId, current, build): Promise<AppendOutcome> {
      // Another request's transaction may be open on the shared connection (between its awaits). Let it finish
      // rather than write our records into it; only a caller awaiting its own append inside its transaction keeps
      // it open, and then we join it after the wait (and sign no checkpoint on that batch).
      const waitUntil = Date.now() + OUTER_TRANSACTION_WAIT_MS;
      while (database.inTransaction && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 1));
      const joinedOuterTransaction = database.inTransaction;
      const run = database.transaction(() => {
        const stored = storedTail(tenantId);
        let tail: LogTail;
        // Same rule as resolveTail (shared with PostgreSQL), written synchronously to stay inside this transaction.
        if (current !== undefined && current.frontier.size === stored.size) {
          tail = { frontier: cloneFrontier(current.frontier), lastRecordedAt: Math.max(current.lastRecordedAt, stored.lastRecordedAt) };
        } else {
          const nodes = readNodesSync(tenantId, merkle.rangeNodes({ start: 0, end: stored.size }));
          tail = { frontier: merkle.MerkleFrontier.restore(stored.size, merkle.readerFromMap(nodes)), lastRecordedAt: stored.lastRecordedAt };
        }
        const batch = build(tail);
        insert(tenantId, batch);
        const last = batch.records.at(-1);
        return { frontier: tail.frontier, lastRecordedAt: last === undefined ? tail.lastRecordedAt : last.recordedAt };
      });
      return { ...run.immediate(), joinedOuterTransaction };
    },
    async readNodes(tenantId, ids) {
      return readNodesSync(tenantId, ids);
    },
  };
}
