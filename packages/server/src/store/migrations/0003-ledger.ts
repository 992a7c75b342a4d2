import type { Migration } from './types.js';

type Sql = 'sqlite' | 'postgres';

/** Every ledger table; all are append-only. */
export const LEDGER_TABLES = [
  'ledger_records',
  'ledger_nodes',
  'ledger_checkpoints',
  'ledger_cosignatures',
  'ledger_signing_keys',
] as const;

function tables(dialect: Sql): string[] {
  const int = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const bytes = dialect === 'sqlite' ? 'BLOB' : 'BYTEA';
  const compact = dialect === 'sqlite' ? ' WITHOUT ROWID' : '';
  return [
    // One row per record; `body` is the record's canonical JSON, the exact bytes of its Merkle leaf (leaf hashes
    // are recomputed from it when a proof needs one, so they are not stored twice).
    // No time index: recorded_at never decreases along idx within a tenant, so time ranges are found by binary
    // search on the primary key (one index less to maintain on the append path).
    `CREATE TABLE ledger_records (
       tenant_id TEXT NOT NULL,
       idx ${int} NOT NULL,
       recorded_at ${int} NOT NULL,
       type TEXT NOT NULL,
       actor TEXT,
       agent_id TEXT,
       execution_id TEXT,
       session_id TEXT,
       is_violation INTEGER NOT NULL,
       body TEXT NOT NULL,
       PRIMARY KEY (tenant_id, idx)
     )`,
    // Every perfect subtree above the leaves, keyed by its in-order position
    // (index·2^(level+1) + 2^level − 1), so any proof is O(log n) point lookups.
    `CREATE TABLE ledger_nodes (
       tenant_id TEXT NOT NULL,
       pos ${int} NOT NULL,
       hash ${bytes} NOT NULL,
       PRIMARY KEY (tenant_id, pos)
     )${compact}`,
    `CREATE TABLE ledger_checkpoints (
       tenant_id TEXT NOT NULL,
       size ${int} NOT NULL,
       root_hash ${bytes} NOT NULL,
       note TEXT NOT NULL,
       created_at ${int} NOT NULL,
       PRIMARY KEY (tenant_id, size)
     )`,
    `CREATE TABLE ledger_cosignatures (
       tenant_id TEXT NOT NULL,
       size ${int} NOT NULL,
       witness TEXT NOT NULL,
       signature_line TEXT NOT NULL,
       signed_at ${int} NOT NULL,
       created_at ${int} NOT NULL,
       PRIMARY KEY (tenant_id, size, witness)
     )`,
    // The server's checkpoint-signing key; the private half is sealed by the vault (AES-256-GCM).
    `CREATE TABLE ledger_signing_keys (
       id TEXT PRIMARY KEY,
       public_key TEXT NOT NULL,
       sealed_private_key TEXT NOT NULL,
       created_at ${int} NOT NULL
     )`,
  ];
}

// Triggers refuse in-place change. They stop mistakes and casual edits, not an owner who can drop them:
// tamper evidence comes from signed checkpoints kept outside the database (docs/ledger.md).
function sqliteTriggers(): string[] {
  return LEDGER_TABLES.flatMap((table) => [
    `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
     BEGIN SELECT RAISE(ABORT, '${table} is append-only: UPDATE refused'); END`,
    `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
     BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END`,
  ]);
}

function postgresTriggers(): string[] {
  return [
    `CREATE OR REPLACE FUNCTION tollgate_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
     END $$`,
    ...LEDGER_TABLES.flatMap((table) => [
      `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
       FOR EACH ROW EXECUTE FUNCTION tollgate_ledger_append_only()`,
      `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
       FOR EACH STATEMENT EXECUTE FUNCTION tollgate_ledger_append_only()`,
    ]),
  ];
}

/** Ledger: records, stored subtree hashes, signed checkpoints, witness cosignatures, signing key. */
export const migration0003: Migration = {
  version: 3,
  name: 'ledger',
  sqlite: [...tables('sqlite'), ...sqliteTriggers()],
  postgres: [...tables('postgres'), ...postgresTriggers()],
};
