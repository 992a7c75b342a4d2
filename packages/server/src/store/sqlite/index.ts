import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../schema.js';
import { createRepositories } from '../repositories/index.js';
import type { Store } from '../types.js';
import { DEFAULT_CHECKPOINT_INTERVAL_MS, WAL_SIZE_LIMIT_BYTES, startBackgroundCheckpointer, type BackgroundCheckpointer } from './checkpointer.js';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. Parent directories are created. */
  readonly filename: string;
  /** Milliseconds a writer waits for a lock held by another process (e.g. the CLI). */
  readonly busyTimeoutMs?: number;
  /**
   * Milliseconds between WAL checkpoints run by a background worker thread (default 250); 0 keeps SQLite's
   * automatic checkpoints on the connection itself. Ignored for `:memory:`.
   */
  readonly checkpointIntervalMs?: number;
  /** Told about background checkpoint failures (default: a process warning; automatic checkpoints take over). */
  readonly onCheckpointError?: (message: string) => void;
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
  database.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  database.pragma('foreign_keys = ON');
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
  database.pragma(`busy_timeout = ${busyTimeoutMs}`);
  const checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  const checkpointer: BackgroundCheckpointer | undefined =
    options.filename === ':memory:' || checkpointIntervalMs === 0
      ? undefined
      : startBackgroundCheckpointer(database, {
          intervalMs: checkpointIntervalMs,
          busyTimeoutMs,
          onError: options.onCheckpointError ?? ((message) => process.emitWarning(`SQLite background checkpoint failed: ${message}`, 'TollgateWarning')),
        });
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
      await checkpointer?.stop();
      await db.destroy(); // closes the better-sqlite3 handle if Kysely ever used it
      if (database.open) database.close();
    },
  });
  return build(db);
}
