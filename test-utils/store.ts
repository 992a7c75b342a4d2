import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { migrateStore, openPostgresStore, openSqliteStore, type Store } from '@tollgate/server';
import { createTestDatabase, postgresTestUrl, type TestDatabase } from './postgres.js';

/** A fresh, fully migrated store and how to dispose of it. */
export interface TestStore {
  readonly store: Store;
  dispose(): Promise<void>;
}

/**
 * Opens a fresh SQLite store in a temp dir, with every migration applied (`migrate: false`: none, for migration
 * tests that apply them step by step).
 *
 * @example
 * const { store, dispose } = await openTestSqliteStore();
 */
export async function openTestSqliteStore(options: { migrate?: boolean } = {}): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-store-'));
  const store = openSqliteStore({ filename: join(dir, 'tollgate.db') });
  if (options.migrate !== false) await migrateStore(store);
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a fresh PostgreSQL store in a new database next to `adminUrl`, with every migration applied (`migrate: false`:
 * none).
 *
 * @example
 * const { store, dispose } = await openTestPostgresStore(pgUrl);
 */
export async function openTestPostgresStore(adminUrl: string, options: { migrate?: boolean } = {}): Promise<TestStore> {
  const database: TestDatabase = await createTestDatabase(adminUrl);
  const store = openPostgresStore({ connectionString: database.url });
  if (options.migrate !== false) await migrateStore(store);
  return {
    store,
    async dispose() {
      await store.close();
      await database.drop();
    },
  };
}

/**
 * Runs the same suite against SQLite and PostgreSQL (the store conformance convention). `getStore()` returns the
 * store of the running dialect (fresh per suite; use unique ids between tests). PostgreSQL follows
 * `postgresTestUrl` rules: fails in CI without a database, skips loudly elsewhere.
 *
 * @example
 * describeStoreConformance('tenants', (getStore) => {
 *   it('creates', async () => { await getStore().tenants.create({ id: 't', name: 't', createdAt: 1 }); });
 * });
 */
export function describeStoreConformance(name: string, suite: (getStore: () => Store) => void): void {
  const pgUrl = postgresTestUrl(`${name} store conformance`);
  const dialects: Array<[string, () => Promise<TestStore>, boolean]> = [
    ['sqlite', openTestSqliteStore, true],
    ['postgres', () => openTestPostgresStore(pgUrl ?? ''), Boolean(pgUrl)],
  ];
  for (const [dialect, open, enabled] of dialects) {
    describe.skipIf(!enabled)(`${name} on ${dialect}`, () => {
      let opened: TestStore | undefined;
      beforeAll(async () => {
        opened = await open();
      });
      afterAll(async () => {
        await opened?.dispose();
      });
      suite(() => {
        if (!opened) throw new Error('store not opened');
        return opened.store;
      });
    });
  }
}
