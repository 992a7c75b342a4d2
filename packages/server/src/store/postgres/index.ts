import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../schema.js';
import { createRepositories } from '../repositories/index.js';
import type { Store } from '../types.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** Pool size. */
  readonly maxConnections?: number;
}

/** Default PostgreSQL pool size. */
export const DEFAULT_POSTGRES_MAX_CONNECTIONS = 10;

const INT8_OID = 20;

/**
 * Per-pool type parsers (not the global `pg.types`, which would be a process-wide side effect): BIGINT columns
 * hold epoch milliseconds and counts, which fit a JS number exactly.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens the PostgreSQL store (a `pg` pool behind Kysely).
 *
 * @example
 * const store = openPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/tollgate' });
 */
export function openPostgresStore(options: PostgresStoreOptions): Store {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? DEFAULT_POSTGRES_MAX_CONNECTIONS,
    types: TYPES,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  const build = (conn: Kysely<Database>): Store => ({
    ...createRepositories(conn, 'postgres'),
    dialect: 'postgres',
    db: conn,
    native: { dialect: 'postgres', pool, connectionString: options.connectionString },
    transaction: (fn) => conn.transaction().execute((trx) => fn(build(trx))),
    ping: async () => {
      await sql`SELECT 1`.execute(conn);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy(); // ends the pool
    },
  });
  return build(db);
}
