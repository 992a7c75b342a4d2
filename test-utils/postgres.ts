import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for tests. `TOLLGATE_TEST_DATABASE_URL` points at a server where we may create databases
 * (CI: postgres://postgres@127.0.0.1:5432/postgres). With CI=true a missing variable FAILS the suite;
 * otherwise PostgreSQL suites are skipped with a loud warning.
 *
 * @example
 * const pgUrl = postgresTestUrl('store conformance');
 * describe.skipIf(!pgUrl)('on PostgreSQL', () => { … });
 */
export function postgresTestUrl(suite: string): string | undefined {
  const url = process.env['TOLLGATE_TEST_DATABASE_URL'];
  if (url) return url;
  if (process.env['CI'] === 'true') {
    throw new Error(`${suite}: TOLLGATE_TEST_DATABASE_URL is not set and CI=true; PostgreSQL suites must not be skipped in CI`);
  }
  console.warn(
    `\n!!! ${suite}: PostgreSQL suite SKIPPED — set TOLLGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run it !!!\n`,
  );
  return undefined;
}

/** A freshly created database, dropped by `drop()`. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database next to `adminUrl`'s and returns its URL.
 *
 * @example
 * const db = await createTestDatabase(pgUrl); … await db.drop();
 */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `tollgate_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
