import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openTestSqliteStore } from '../../../../../test-utils/index.js';
import { callsPageQuery } from '../../services/dashboard/calls-view.js';

// The calls list's tool and outcome filters read the partial indexes of migration 0017 (as the dashboard builds the
// query) instead of every event of the tenant: SQLite's plan says which index a query reads.
describe('migration 0017 (call filter indexes) on sqlite', () => {
  it('filters by tool or outcome read their index, with no sort; the other filters keep theirs', async () => {
    const { store, dispose } = await openTestSqliteStore();
    try {
      const plan = async (query: Parameters<typeof callsPageQuery>[2]) => {
        const compiled = callsPageQuery(store.db, 'acme', query).compile();
        const rows = await sql.raw(`EXPLAIN QUERY PLAN ${compiled.sql.replace(/\?/g, () => "'x'")}`).execute(store.db);
        return (rows.rows as Array<{ detail: string }>).map((row) => row.detail).join(' | ');
      };
      const byTool = await plan({ toolName: 'nope', limit: 50 });
      expect(byTool).toContain('events_tenant_tool_post_idx');
      expect(byTool).not.toContain('TEMP B-TREE');
      const byOutcome = await plan({ outcome: 'error', limit: 50 });
      expect(byOutcome).toContain('events_tenant_outcome_post_idx');
      expect(byOutcome).not.toContain('TEMP B-TREE');
      expect(await plan({ sessionId: 's', limit: 50 })).toContain('events_tenant_session_ts_idx');
      expect(await plan({ limit: 50 })).toMatch(/events_tenant_(ts|tool_post|outcome_post)_idx/);
    } finally {
      await dispose();
    }
  });
});
