import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

export interface LedgerRecordsTable {
  tenant_id: string;
  idx: number;
  recorded_at: number;
  type: string;
  actor: string | null;
  agent_id: string | null;
  execution_id: string | null;
  session_id: string | null;
  is_violation: number;
  /** Canonical JSON of the record: the exact bytes of its Merkle leaf. */
  body: string;
}

export interface LedgerNodesTable {
  tenant_id: string;
  /** In-order position of a perfect subtree: index·2^(level+1) + 2^level − 1. */
  pos: number;
  hash: Uint8Array;
}

export interface LedgerCheckpointsTable {
  tenant_id: string;
  size: number;
  root_hash: Uint8Array;
  note: string;
  created_at: number;
}

export interface LedgerCosignaturesTable {
  tenant_id: string;
  size: number;
  witness: string;
  signature_line: string;
  signed_at: number;
  created_at: number;
}

export interface LedgerSigningKeysTable {
  id: string;
  public_key: string;
  sealed_private_key: string;
  created_at: number;
}

declare module '../schema.js' {
  interface Database {
    ledger_records: LedgerRecordsTable;
    ledger_nodes: LedgerNodesTable;
    ledger_checkpoints: LedgerCheckpointsTable;
    ledger_cosignatures: LedgerCosignaturesTable;
    ledger_signing_keys: LedgerSigningKeysTable;
  }
}

/** A stored record: its position, time, and canonical JSON body. */
export interface StoredLedgerRecord {
  readonly index: number;
  readonly recordedAt: number;
  readonly body: string;
}

/** Filters of record queries; all optional, combined with AND. */
export interface LedgerRecordFilter {
  readonly fromMs?: number | undefined;
  readonly toMs?: number | undefined;
  readonly types?: readonly string[] | undefined;
  readonly violationsOnly?: boolean | undefined;
  readonly agentId?: string | undefined;
  readonly executionId?: string | undefined;
  /** Only records with index > afterIndex (paging and stream resume). */
  readonly afterIndex?: number | undefined;
  /** Only records with index < beforeIndex. */
  readonly beforeIndex?: number | undefined;
}

/** A signed checkpoint as stored. */
export interface StoredCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly note: string;
  readonly createdAt: number;
}

/** A witness cosignature line as stored. */
export interface StoredCosignature {
  readonly size: number;
  readonly witness: string;
  readonly signatureLine: string;
  readonly signedAt: number;
}

/** The ledger's signing key row (private half sealed). */
export interface StoredSigningKey {
  readonly id: string;
  readonly publicKey: string;
  readonly sealedPrivateKey: string;
  readonly createdAt: number;
}

/** Reads of the ledger and writes of its small tables. Record/node appends go through the native writers. */
export interface LedgerRepository {
  /** Number of records of the tenant. */
  size(tenantId: string): Promise<number>;
  /** Records matching the filter, ascending by index. */
  records(tenantId: string, filter: LedgerRecordFilter, limit: number): Promise<StoredLedgerRecord[]>;
  count(tenantId: string, filter: LedgerRecordFilter): Promise<number>;
  /** Counts of matching records per (type, agent) in one read (several counts over a large log: one pass, not one each). */
  countByTypeAndAgent(tenantId: string, filter: LedgerRecordFilter): Promise<Array<{ type: string; agentId: string | null; count: number }>>;
  record(tenantId: string, index: number): Promise<StoredLedgerRecord | undefined>;
  /** Index of the first record recorded at or after a time (`since`, time ranges), or the size when none. */
  firstIndexAtOrAfter(tenantId: string, atMs: number): Promise<number>;
  latestCheckpoint(tenantId: string): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints ascending by size, optionally only those up to `maxSize` and from `minSize`. */
  checkpoints(tenantId: string, maxSize?: number, minSize?: number): Promise<StoredCheckpoint[]>;
  /** Inserts unless one exists at that size (replicas may race). */
  insertCheckpoint(tenantId: string, checkpoint: StoredCheckpoint): Promise<void>;
  insertCosignature(tenantId: string, cosignature: StoredCosignature, createdAt: number): Promise<boolean>;
  cosignatures(tenantId: string, size: number): Promise<StoredCosignature[]>;
  signingKey(): Promise<StoredSigningKey | undefined>;
  /** Inserts unless a key exists; returns the key in use (replicas agree on the oldest). */
  createSigningKeyIfAbsent(key: StoredSigningKey): Promise<StoredSigningKey>;
}

type RecordQuery = SelectQueryBuilder<Database, 'ledger_records', object>;

function applyFilter(query: RecordQuery, tenantId: string, filter: LedgerRecordFilter): RecordQuery {
  let q = query.where('tenant_id', '=', tenantId);
  if (filter.fromMs !== undefined) q = q.where('recorded_at', '>=', filter.fromMs);
  if (filter.toMs !== undefined) q = q.where('recorded_at', '<=', filter.toMs);
  if (filter.types !== undefined && filter.types.length > 0) q = q.where('type', 'in', [...filter.types]);
  if (filter.violationsOnly) q = q.where('is_violation', '=', 1);
  if (filter.agentId !== undefined) q = q.where('agent_id', '=', filter.agentId);
  if (filter.executionId !== undefined) q = q.where('execution_id', '=', filter.executionId);
  if (filter.afterIndex !== undefined) q = q.where('idx', '>', filter.afterIndex);
  if (filter.beforeIndex !== undefined) q = q.where('idx', '<', filter.beforeIndex);
  return q;
}

const toRecord = (row: { idx: number; recorded_at: number; body: string }): StoredLedgerRecord => ({
  index: Number(row.idx),
  recordedAt: Number(row.recorded_at),
  body: row.body,
});

const toCheckpoint = (row: { size: number; root_hash: Uint8Array; note: string; created_at: number }): StoredCheckpoint => ({
  size: Number(row.size),
  rootHash: new Uint8Array(row.root_hash),
  note: row.note,
  createdAt: Number(row.created_at),
});

/**
 * Ledger repository over both dialects.
 *
 * @example
 * const ledger = createLedgerRepository(db, 'sqlite');
 * await ledger.records('acme', { violationsOnly: true }, 100);
 */
export function createLedgerRepository(db: Kysely<Database>, _dialect: Dialect): LedgerRepository {
  const signingKey = async () => {
    const row = await db.selectFrom('ledger_signing_keys').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
    return row
      ? { id: row.id, publicKey: row.public_key, sealedPrivateKey: row.sealed_private_key, createdAt: Number(row.created_at) }
      : undefined;
  };
  const base = () => db.selectFrom('ledger_records');
  const size = async (tenantId: string) => {
    const row = await base().select('idx').where('tenant_id', '=', tenantId).orderBy('idx', 'desc').limit(1).executeTakeFirst();
    return row === undefined ? 0 : Number(row.idx) + 1;
  };
  // recorded_at never decreases along idx (the append queue guarantees it), so binary search on the key.
  const firstIndexAtOrAfter = async (tenantId: string, atMs: number) => {
    let low = 0;
    let high = await size(tenantId);
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      const row = await base().select('recorded_at').where('tenant_id', '=', tenantId).where('idx', '=', mid).executeTakeFirst();
      if (row !== undefined && Number(row.recorded_at) < atMs) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  /** The filter with its time range turned into an index range (then scanned on the primary key). */
  const withIndexRange = async (tenantId: string, filter: LedgerRecordFilter): Promise<LedgerRecordFilter> => {
    let { afterIndex, beforeIndex } = filter;
    if (filter.fromMs !== undefined) afterIndex = Math.max(afterIndex ?? -1, (await firstIndexAtOrAfter(tenantId, filter.fromMs)) - 1);
    if (filter.toMs !== undefined) beforeIndex = Math.min(beforeIndex ?? Number.MAX_SAFE_INTEGER, await firstIndexAtOrAfter(tenantId, filter.toMs + 1));
    return { ...filter, afterIndex, beforeIndex };
  };
  return {
    size,
    async records(tenantId, filter, limit) {
      const ranged = await withIndexRange(tenantId, filter);
      const rows = await applyFilter(base(), tenantId, ranged).select(['idx', 'recorded_at', 'body']).orderBy('idx').limit(limit).execute();
      return rows.map(toRecord);
    },
    async count(tenantId, filter) {
      const ranged = await withIndexRange(tenantId, filter);
      // Indexes are dense per tenant: a count bounded by index and time only is arithmetic, not a scan (the audit
      // list counts on every page; a scan of a large log took seconds).
      const unfiltered = (filter.types === undefined || filter.types.length === 0) && !filter.violationsOnly && filter.agentId === undefined && filter.executionId === undefined;
      if (unfiltered) {
        const end = Math.min(ranged.beforeIndex ?? Number.MAX_SAFE_INTEGER, await size(tenantId));
        return Math.max(0, end - ((ranged.afterIndex ?? -1) + 1));
      }
      const row = await applyFilter(base(), tenantId, ranged).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async countByTypeAndAgent(tenantId, filter) {
      const ranged = await withIndexRange(tenantId, filter);
      const rows = await applyFilter(base(), tenantId, ranged)
        .select((eb) => ['type', 'agent_id', eb.fn.countAll().as('n')]).groupBy(['type', 'agent_id']).execute();
      return rows.map((row) => ({ type: row.type, agentId: row.agent_id, count: Number(row.n) }));
    },
    async record(tenantId, index) {
      const row = await base().select(['idx', 'recorded_at', 'body']).where('tenant_id', '=', tenantId).where('idx', '=', index).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    firstIndexAtOrAfter,
    async latestCheckpoint(tenantId) {
      const row = await db.selectFrom('ledger_checkpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('size', 'desc').limit(1).executeTakeFirst();
      return row ? toCheckpoint(row) : undefined;
    },
    async checkpoints(tenantId, maxSize, minSize) {
      let q = db.selectFrom('ledger_checkpoints').selectAll().where('tenant_id', '=', tenantId);
      if (maxSize !== undefined) q = q.where('size', '<=', maxSize);
      if (minSize !== undefined) q = q.where('size', '>=', minSize);
      return (await q.orderBy('size').execute()).map(toCheckpoint);
    },
    async insertCheckpoint(tenantId, checkpoint) {
      await db
        .insertInto('ledger_checkpoints')
        .values({ tenant_id: tenantId, size: checkpoint.size, root_hash: checkpoint.rootHash, note: checkpoint.note, created_at: checkpoint.createdAt })
        .onConflict((oc) => oc.columns(['tenant_id', 'size']).doNothing())
        .execute();
    },
    async insertCosignature(tenantId, cosignature, createdAt) {
      const result = await db
        .insertInto('ledger_cosignatures')
        .values({
          tenant_id: tenantId,
          size: cosignature.size,
          witness: cosignature.witness,
          signature_line: cosignature.signatureLine,
          signed_at: cosignature.signedAt,
          created_at: createdAt,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'size', 'witness']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async cosignatures(tenantId, size) {
      const rows = await db.selectFrom('ledger_cosignatures').selectAll().where('tenant_id', '=', tenantId).where('size', '=', size).orderBy('witness').execute();
      return rows.map((row) => ({ size: Number(row.size), witness: row.witness, signatureLine: row.signature_line, signedAt: Number(row.signed_at) }));
    },
    signingKey,
    async createSigningKeyIfAbsent(key) {
      const existing = await signingKey();
      if (existing) return existing;
      await db
        .insertInto('ledger_signing_keys')
        .values({ id: key.id, public_key: key.publicKey, sealed_private_key: key.sealedPrivateKey, created_at: key.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return (await signingKey()) ?? key;
    },
  };
}

