import type { ColumnType } from 'kysely';

/**
 * Kysely table types of the database, shared by both dialects.
 *
 * Each area declares its tables here (one interface per table, one line in `Database`) or, to keep this file
 * conflict-free, in its own repository file by module augmentation:
 *
 * ```ts
 * declare module '../schema.js' { interface Database { decisions: DecisionsTable } }
 * ```
 *
 * Conventions: snake_case columns; timestamps are epoch milliseconds (`INTEGER` in SQLite, `BIGINT` in
 * PostgreSQL, both read back as `number`); JSON is stored as `TEXT` (faster than jsonb here); no booleans
 * (SQLite has none): use nullable timestamps or 0/1 integers.
 */
export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  tollgate_migrations: MigrationsTable;
}

export interface TenantsTable {
  id: string;
  name: string;
  created_at: number;
  /** Migration 0012: days of data retention; NULL = the server's default. */
  retention_days: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  /** Hex SHA-256 of the secret part of the key; the secret itself is never stored. */
  secret_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  /** Id of the key that created this one; null for keys created by the CLI or at first start. */
  created_by: string | null;
  /** JSON array of the agent ids the key may name (migration 0009); null = every agent of the tenant. */
  agent_ids: string | null;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}
