import { join } from 'node:path';
import { openSqliteStore } from './sqlite/index.js';
import { openPostgresStore } from './postgres/index.js';
import { MIGRATIONS, runMigrations, type MigrationResult } from './migrations/index.js';
import type { Store } from './types.js';

/** File name of the SQLite database inside the data directory. */
export const SQLITE_FILE_NAME = 'tollgate.db';

/** Where to store: PostgreSQL when `databaseUrl` is set, else SQLite under `dataDir`. */
export interface StoreLocation {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** SQLite: interval of background WAL checkpoints (0 = automatic checkpoints on the connection). */
  readonly sqliteCheckpointIntervalMs?: number;
}

/**
 * Opens the configured store (does not migrate).
 *
 * @example
 * const store = openStore({ dataDir: './data' });
 */
export function openStore(location: StoreLocation): Store {
  if (location.databaseUrl) return openPostgresStore({ connectionString: location.databaseUrl });
  return openSqliteStore({
    filename: join(location.dataDir, SQLITE_FILE_NAME),
    ...(location.sqliteCheckpointIntervalMs === undefined ? {} : { checkpointIntervalMs: location.sqliteCheckpointIntervalMs }),
  });
}

/**
 * Applies all pending migrations of every area.
 *
 * @example
 * await migrateStore(store);
 */
export function migrateStore(store: Store, now: () => number = Date.now): Promise<MigrationResult> {
  return runMigrations(store.db, store.dialect, MIGRATIONS, now);
}

export { openSqliteStore, type SqliteStoreOptions } from './sqlite/index.js';
export { openPostgresStore, type PostgresStoreOptions } from './postgres/index.js';
export { MIGRATIONS, runMigrations, type Migration, type MigrationResult } from './migrations/index.js';
export type { Store, Dialect, NativeConnection } from './types.js';
export type { Database } from './schema.js';
export type { Repositories, Tenant, TenantRepository, ApiKeyRecord, ApiKeyRepository } from './repositories/index.js';
export { createRepositories } from './repositories/index.js';
