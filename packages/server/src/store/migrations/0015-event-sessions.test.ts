import { describe, expect, it } from 'vitest';
import { openTestPostgresStore, openTestSqliteStore, postgresTestUrl, type TestStore } from '../../../../../test-utils/index.js';
import { MIGRATIONS, runMigrations } from './index.js';

const pgUrl = postgresTestUrl('migration 0015');

/** Stores with no migration applied: each test applies them up to the one under test. */
const cases: Array<[string, () => Promise<TestStore>, boolean]> = [
  ['sqlite', () => openTestSqliteStore({ migrate: false }), true],
  ['postgres', () => openTestPostgresStore(pgUrl ?? '', { migrate: false }), Boolean(pgUrl)],
];

for (const [dialect, open, enabled] of cases) {
  describe.skipIf(!enabled)(`migration 0015 (event sessions) on ${dialect}`, () => {
    it('summarizes the events stored before it, per tenant and session, and later events add to the summaries', async () => {
      const { store, dispose } = await open();
      try {
        await runMigrations(store.db, store.dialect, MIGRATIONS.filter((migration) => migration.version <= 14));
        for (const id of ['t1', 't2']) await store.tenants.create({ id, name: id, createdAt: 1 });
        let n = 0;
        const row = (tenantId: string, sessionId: string, ts: number, eventType: string, outcome: string | null) => ({
          tenant_id: tenantId, event_id: `e${(n += 1)}`, event_type: eventType, source_type: 'SDK', agent_id: 'bot', user_id: 'alice',
          session_id: sessionId, tool_name: 'read', call_id: `c${n}`, decision_id: null, ts, received_at: ts, duration_ms: null,
          outcome, redaction: 'full', arguments: null, result: null, error: null,
        });
        await store.db.insertInto('events').values([
          row('t1', 's1', 100, 'TOOL_CALL_PRE', null), row('t1', 's1', 150, 'TOOL_CALL_POST', 'blocked'), row('t1', 's1', 120, 'TOOL_CALL_POST', 'success'),
          row('t1', 's2', 300, 'TOOL_CALL_POST', 'success'), row('t2', 's1', 999, 'TOOL_CALL_POST', 'success'),
        ]).execute();
        await runMigrations(store.db, store.dialect, MIGRATIONS);
        const summary = async (tenantId: string) => (await store.events.sessions(tenantId, { limit: 10 })).map((s) => [s.session_id, s.calls, s.blocked, s.first_ts, s.last_ts]);
        expect(await summary('t1')).toEqual([['s2', 1, 0, 300, 300], ['s1', 2, 1, 100, 150]]);
        expect(await summary('t2')).toEqual([['s1', 1, 0, 999, 999]]);
        await store.events.insertMany('t1', [{
          tenantId: 't1', eventId: 'later', eventType: 'TOOL_CALL_POST', sourceType: 'SDK', agentId: 'bot', userId: 'alice', sessionId: 's1',
          toolName: 'read', callId: 'c-later', decisionId: null, ts: 500, receivedAt: 500, durationMs: null, outcome: 'blocked', redaction: 'full',
          arguments: null, result: undefined, error: null,
        }]);
        expect(await summary('t1')).toEqual([['s1', 3, 2, 100, 500], ['s2', 1, 0, 300, 300]]);
      } finally {
        await dispose();
      }
    });
  });
}
