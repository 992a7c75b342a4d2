import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openTestSqliteStore } from '../../../../../test-utils/index.js';

// The queries of the hold sweeper, the approvals list without a status and the counter sweep (as the repositories
// build them) read an index instead of scanning their table: SQLite's plan says which.
describe('migration 0014 (scale indexes) on sqlite', () => {
  it('the hold sweeper, the newest-holds list and the counter sweep use an index', async () => {
    const { store, dispose } = await openTestSqliteStore();
    try {
      const db = store.db;
      const plan = async (query: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
        const compiled = query.compile();
        const rows = await sql.raw(`EXPLAIN QUERY PLAN ${compiled.sql.replace(/\?/g, () => '0')}`).execute(db);
        return (rows.rows as Array<{ detail: string }>).map((row) => row.detail).join(' | ');
      };
      const sweep = await plan(db.selectFrom('holds').selectAll().where('status', '=', 'pending').where('expires_at', '<=', 5).limit(1000));
      expect(sweep).toContain('holds_status_expires_idx');
      const newest = await plan(db.selectFrom('holds').selectAll().where('tenant_id', '=', 't').orderBy('created_at', 'desc').limit(200));
      expect(newest).toContain('holds_tenant_created_idx');
      expect(newest).not.toContain('TEMP B-TREE');
      const counters = await plan(db.selectFrom('rate_limit_counters').select(['tenant_id', 'counter_key']).where('expires_at', '<=', 5).limit(2000));
      expect(counters).toContain('rate_limit_counters_expires_idx');
    } finally {
      await dispose();
    }
  });
});
