// The ledger's hot paths, written per dialect on the native driver (store/sqlite, store/postgres):
// batched appends of records + subtree nodes in one transaction, and batched node lookups for proofs.
import { merkle } from '@tollgate/core';
import type { NativeConnection } from '../types.js';
import { createSqliteLedgerNative } from '../sqlite/ledger-native.js';
import { createPostgresLedgerNative } from '../postgres/ledger-native.js';

/** One record row to insert. */
export interface LedgerRecordRow {
  readonly index: number;
  readonly recordedAt: number;
  readonly type: string;
  readonly actor: string | null;
  readonly agentId: string | null;
  readonly executionId: string | null;
  readonly sessionId: string | null;
  readonly isViolation: boolean;
  readonly body: string;
}

/** One interior node row to insert (levels ≥ {@link LOWEST_STORED_LEVEL} only). */
export interface LedgerNodeRow {
  readonly pos: number;
  readonly hash: Uint8Array;
}

/** What one append transaction inserts. */
export interface LedgerBatch {
  readonly records: readonly LedgerRecordRow[];
  readonly nodes: readonly LedgerNodeRow[];
}

/** The end of a tenant's stored log: its Merkle frontier and the time of its last record. */
export interface LogTail {
  readonly frontier: merkle.MerkleFrontier;
  /** `recorded_at` of the last record (0 when empty). Times never go backwards within a log. */
  readonly lastRecordedAt: number;
}

/** Result of {@link LedgerNative.appendBatch}. */
export interface AppendOutcome extends LogTail {
  /**
   * True when the write joined a transaction already open on the connection (SQLite, a caller appending inside
   * `store.transaction`): it commits or rolls back with that transaction, so do not sign a checkpoint on it yet.
   */
  readonly joinedOuterTransaction: boolean;
}

/** Native ledger operations of one store. */
export interface LedgerNative {
  /**
   * In one transaction holding the tenant's write lock: checks that `current` describes the stored log (reloads
   * it from stored nodes when not, e.g. after another replica appended), lets `build` extend a copy of its
   * frontier and inserts the rows it returns. `build` must not set a `recordedAt` before `tail.lastRecordedAt`.
   */
  appendBatch(tenantId: string, current: LogTail | undefined, build: (tail: LogTail) => LedgerBatch): Promise<AppendOutcome>;
  /** Hashes of perfect subtrees (level 0 recomputed from the records' bodies), keyed `level:index`. */
  readNodes(tenantId: string, ids: readonly merkle.NodeId[]): Promise<Map<string, Uint8Array>>;
}

/**
 * Interior nodes below this level are not stored: a node of level 1 or 2 is recomputed from its 2 or 4 record
 * bodies when a proof needs it (at most a few per proof). Storing only levels ≥ 3 writes n/8 node rows instead
 * of n, which is most of the append cost after the records themselves; proofs stay O(log n) lookups.
 */
export const LOWEST_STORED_LEVEL = 3;

/** What to fetch for a set of node ids: record bodies by index, stored nodes by position. */
export interface NodeReadPlan {
  readonly leafIndexes: number[];
  readonly positions: number[];
}

/**
 * Plan the reads behind {@link assembleNodes}.
 * @example planNodeReads([{ level: 0, index: 5 }, { level: 4, index: 1 }])
 */
export function planNodeReads(ids: readonly merkle.NodeId[]): NodeReadPlan {
  const leaves = new Set<number>();
  const positions: number[] = [];
  for (const id of ids) {
    if (id.level >= LOWEST_STORED_LEVEL) {
      positions.push(nodePosition(id));
      continue;
    }
    const width = 2 ** id.level;
    for (let leaf = id.index * width; leaf < (id.index + 1) * width; leaf++) leaves.add(leaf);
  }
  return { leafIndexes: [...leaves], positions };
}

/**
 * Node hashes, keyed `level:index`, from fetched record bodies and stored nodes; ids whose data is missing
 * (outside the log) are left out, so readers fail loudly on them.
 */
export function assembleNodes(
  ids: readonly merkle.NodeId[],
  bodies: ReadonlyMap<number, string>,
  stored: ReadonlyMap<number, Uint8Array>,
): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  const leafHashes = new Map<number, Uint8Array>();
  for (const [index, body] of bodies) leafHashes.set(index, merkle.hashLeafText(body));
  const low = (level: number, index: number): Uint8Array | undefined => {
    if (level === 0) return leafHashes.get(index);
    const left = low(level - 1, index * 2);
    const right = low(level - 1, index * 2 + 1);
    return left && right ? merkle.hashChildren(left, right) : undefined;
  };
  for (const id of ids) {
    const hash = id.level >= LOWEST_STORED_LEVEL ? stored.get(nodePosition(id)) : low(id.level, id.index);
    if (hash) found.set(merkle.nodeKey(id), hash);
  }
  return found;
}

/**
 * In-order position of a perfect subtree, unique across levels: index·2^(level+1) + 2^level − 1.
 * @example nodePosition({ level: 0, index: 3 }) // 6
 */
export function nodePosition(node: merkle.NodeId): number {
  const width = 2 ** node.level;
  return node.index * width * 2 + width - 1;
}

/** Copy of a frontier the caller can extend without touching the original. */
export function cloneFrontier(frontier: merkle.MerkleFrontier): merkle.MerkleFrontier {
  return new merkle.MerkleFrontier(frontier.size, frontier.nodes);
}

/** The tail to build on: a copy of `current` when it matches the stored log, else one rebuilt from it. */
export async function resolveTail(
  current: LogTail | undefined,
  stored: { size: number; lastRecordedAt: number },
  readNodes: (ids: readonly merkle.NodeId[]) => Map<string, Uint8Array> | Promise<Map<string, Uint8Array>>,
): Promise<LogTail> {
  if (current !== undefined && current.frontier.size === stored.size) {
    return { frontier: cloneFrontier(current.frontier), lastRecordedAt: Math.max(current.lastRecordedAt, stored.lastRecordedAt) };
  }
  const nodes = await readNodes(merkle.rangeNodes({ start: 0, end: stored.size }));
  return { frontier: merkle.MerkleFrontier.restore(stored.size, merkle.readerFromMap(nodes)), lastRecordedAt: stored.lastRecordedAt };
}

/**
 * The native ledger operations for a store's connection.
 * @example const native = createLedgerNative(store.native);
 */
export function createLedgerNative(connection: NativeConnection): LedgerNative {
  return connection.dialect === 'sqlite'
    ? createSqliteLedgerNative(connection.database)
    : createPostgresLedgerNative(connection.pool);
}
