import type { Kysely } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { Database } from './schema.js';
import type { Repositories } from './repositories/index.js';

/** Which SQL dialect a store speaks. */
export type Dialect = 'sqlite' | 'postgres';

/** The underlying driver, for the few dialect-specific paths (bulk inserts, LISTEN/NOTIFY, pragmas). */
export type NativeConnection =
  | { readonly dialect: 'sqlite'; readonly database: BetterSqlite3.Database }
  | { readonly dialect: 'postgres'; readonly pool: pg.Pool; readonly connectionString: string };

/**
 * The one storage interface: per-area repositories plus lifecycle. Every repository method takes the tenant id
 * (except the few cross-tenant lookups of the foundation, e.g. API key by id for authentication).
 */
export interface Store extends Repositories {
  readonly dialect: Dialect;
  /** Typed query builder, for repositories. Services should use repositories, not this. */
  readonly db: Kysely<Database>;
  readonly native: NativeConnection;
  /**
   * Runs `fn` in one database transaction; the store passed to `fn` is bound to it.
   *
   * @example
   * await store.transaction(async (tx) => { await tx.tenants.create(t); await tx.apiKeys.create(k); });
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Throws when the database cannot answer a trivial query (used by `/readyz`). */
  ping(): Promise<void>;
  /** Closes connections; idempotent. */
  close(): Promise<void>;
}
