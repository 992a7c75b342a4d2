import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../schema.js';
import { createRepositories } from '../repositories/index.js';
import type { Store } from '../types.js';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. Parent directories are created. */
  readonly filename: string;
  /** Milliseconds a writer waits for a lock held by another process (e.g. the CLI). */
  readonly busyTimeoutMs?: number;
}

/** Default SQLite busy timeout. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens the embedded SQLite store: WAL journal, `synchronous=NORMAL` (durable across process crashes; the last
 * transactions may be lost on power loss, the usual WAL trade-off), foreign keys on.
 *
 * @example
 * const store = openSqliteStore({ filename: './data/tollgate.db' });
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
  const database = new BetterSqlite3(options.filename);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  let closed = false;
  const build = (conn: Kysely<Database>): Store => ({
    ...createRepositories(conn, 'sqlite'),
    dialect: 'sqlite',
    db: conn,
    native: { dialect: 'sqlite', database },
    transaction: (fn) => conn.transaction().execute((trx) => fn(build(trx))),
    ping: async () => {
      await sql`SELECT 1`.execute(conn);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy(); // also closes the better-sqlite3 handle
    },
  });
  return build(db);
}
