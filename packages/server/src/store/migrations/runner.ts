import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import type { Migration } from './types.js';

/** What a migration run did. */
export interface MigrationResult {
  /** Versions applied by this run, ascending. */
  applied: number[];
  /** Highest version now in the database. */
  current: number;
}

/** Arbitrary constant key for the PostgreSQL advisory lock that serialises replicas migrating at once. */
const POSTGRES_MIGRATION_LOCK = 7_271_001;

const CREATE_TABLE = {
  sqlite: 'CREATE TABLE IF NOT EXISTS tollgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  postgres: 'CREATE TABLE IF NOT EXISTS tollgate_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
} as const;

function sortMigrations(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((migration, index) => {
    if (index > 0 && sorted[index - 1]?.version === migration.version) {
      throw new Error(`Two migrations share version ${migration.version}`);
    }
  });
  return sorted;
}

async function applyPending(db: Kysely<Database>, dialect: Dialect, migrations: Migration[], now: () => number) {
  await sql.raw(CREATE_TABLE[dialect]).execute(db);
  const applied: number[] = [];
  for (const migration of migrations) {
    const done = await db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('tollgate_migrations')
        .select('version')
        .where('version', '=', migration.version)
        .executeTakeFirst();
      if (existing) return false;
      for (const statement of migration[dialect]) await sql.raw(statement).execute(trx);
      await trx
        .insertInto('tollgate_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: now() })
        .execute();
      return true;
    });
    if (done) applied.push(migration.version);
  }
  const top = await db
    .selectFrom('tollgate_migrations')
    .select((eb) => eb.fn.max('version').as('current'))
    .executeTakeFirst();
  return { applied, current: Number(top?.current ?? 0) };
}

/**
 * Applies every pending migration, each in its own transaction. Safe to call at every start-up and from several
 * replicas at once (PostgreSQL takes an advisory lock; SQLite has a single writer).
 *
 * @example
 * const { applied } = await runMigrations(store.db, store.dialect, MIGRATIONS);
 */
export async function runMigrations(
  db: Kysely<Database>,
  dialect: Dialect,
  migrations: readonly Migration[],
  now: () => number = Date.now,
): Promise<MigrationResult> {
  const sorted = sortMigrations(migrations);
  if (dialect === 'sqlite') return applyPending(db, dialect, sorted, now);
  return db.connection().execute(async (connection) => {
    await sql`SELECT pg_advisory_lock(${POSTGRES_MIGRATION_LOCK})`.execute(connection);
    try {
      return await applyPending(connection, dialect, sorted, now);
    } finally {
      await sql`SELECT pg_advisory_unlock(${POSTGRES_MIGRATION_LOCK})`.execute(connection);
    }
  });
}
