import { merkle } from '@tollgate/core';
import type BetterSqlite3 from 'better-sqlite3';
import type { AppendOutcome, LedgerBatch, LedgerNative } from '../repositories/ledger-native.js';
import { cloneFrontier, nodePosition } from '../repositories/ledger-native.js';

interface Statements {
  size: BetterSqlite3.Statement<[string], { top: number | null }>;
  leaves: BetterSqlite3.Statement<[string, string], { idx: number; leaf_hash: Buffer }>;
  nodes: BetterSqlite3.Statement<[string, string], { pos: number; hash: Buffer }>;
  insertRecord: BetterSqlite3.Statement<unknown[]>;
  insertNode: BetterSqlite3.Statement<unknown[]>;
}

function prepare(database: BetterSqlite3.Database): Statements {
  return {
    size: database.prepare('SELECT MAX(idx) AS top FROM ledger_records WHERE tenant_id = ?'),
    leaves: database.prepare('SELECT idx, leaf_hash FROM ledger_records WHERE tenant_id = ? AND idx IN (SELECT value FROM json_each(?))'),
    nodes: database.prepare('SELECT pos, hash FROM ledger_nodes WHERE tenant_id = ? AND pos IN (SELECT value FROM json_each(?))'),
    insertRecord: database.prepare(
      `INSERT INTO ledger_records (tenant_id, idx, recorded_at, type, actor, agent_id, execution_id, session_id, is_violation, body, leaf_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    const found = new Map<string, Uint8Array>();
    const leaves = ids.filter((id) => id.level === 0);
    const inner = ids.filter((id) => id.level > 0);
    if (leaves.length > 0) {
      for (const row of stmts().leaves.all(tenantId, JSON.stringify(leaves.map((id) => id.index)))) {
        found.set(`0:${row.idx}`, new Uint8Array(row.leaf_hash));
      }
    }
    if (inner.length > 0) {
      const byPos = new Map(inner.map((id) => [nodePosition(id), id]));
      for (const row of stmts().nodes.all(tenantId, JSON.stringify([...byPos.keys()]))) {
        const id = byPos.get(Number(row.pos));
        if (id) found.set(merkle.nodeKey(id), new Uint8Array(row.hash));
      }
    }
    return found;
  };

  const storedSize = (tenantId: string): number => {
    const top = stmts().size.get(tenantId)?.top;
    return top === null || top === undefined ? 0 : Number(top) + 1;
  };

  const insert = (tenantId: string, batch: LedgerBatch): void => {
    const { insertRecord, insertNode } = stmts();
    for (const r of batch.records) {
      insertRecord.run(tenantId, r.index, r.recordedAt, r.type, r.actor, r.agentId, r.executionId, r.sessionId, r.isViolation ? 1 : 0, r.body, r.leafHash);
    }
    for (const n of batch.nodes) insertNode.run(tenantId, n.pos, n.hash);
  };

  return {
    async appendBatch(tenantId, current, build): Promise<AppendOutcome> {
      const joinedOuterTransaction = database.inTransaction;
      const run = database.transaction(() => {
        const size = storedSize(tenantId);
        const frontier =
          current !== undefined && current.size === size
            ? cloneFrontier(current)
            : merkle.MerkleFrontier.restore(size, merkle.readerFromMap(readNodesSync(tenantId, merkle.rangeNodes({ start: 0, end: size }))));
        insert(tenantId, build(frontier));
        return frontier;
      });
      return { frontier: run.immediate(), joinedOuterTransaction };
    },
    async readNodes(tenantId, ids) {
      return readNodesSync(tenantId, ids);
    },
  };
}
