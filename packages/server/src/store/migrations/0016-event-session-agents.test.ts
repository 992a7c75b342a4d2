import { describe, expect, it } from 'vitest';
import { openTestPostgresStore, openTestSqliteStore, postgresTestUrl, type TestStore } from '../../../../../test-utils/index.js';
import { MIGRATIONS, runMigrations } from './index.js';

const pgUrl = postgresTestUrl('migration 0016');

/** Stores with no migration applied: each test applies them up to the one under test. */
const cases: Array<[string, () => Promise<TestStore>, boolean]> = [
  ['sqlite', () => openTestSqliteStore({ migrate: false }), true],
  ['postgres', () => openTestPostgresStore(pgUrl ?? '', { migrate: false }), Boolean(pgUrl)],
];

for (const [dialect, open, enabled] of cases) {
  describe.skipIf(!enabled)(`migration 0016 (event session agents) on ${dialect}`, () => {
    it('keeps one-agent summaries as they were and splits sessions of several agents per agent', async () => {
      const { store, dispose } = await open();
      try {
        await runMigrations(store.db, store.dialect, MIGRATIONS.filter((migration) => migration.version <= 15));
        await store.tenants.create({ id: 't1', name: 't1', createdAt: 1 });
        let n = 0;
        const row = (agentId: string, userId: string, sessionId: string, ts: number, outcome: string | null) => ({
          tenant_id: 't1', event_id: `e${(n += 1)}`, event_type: 'TOOL_CALL_POST', source_type: 'SDK', agent_id: agentId, user_id: userId,
          session_id: sessionId, tool_name: 'read', call_id: `c${n}`, decision_id: null, ts, received_at: ts, duration_ms: null,
          outcome, redaction: 'full', arguments: null, result: null, error: null,
        });
        await store.db.insertInto('events').values([
          row('alpha', 'alice', 'mixed', 100, 'success'), row('alpha', 'alice', 'mixed', 200, 'success'),
          row('zeta', 'zz-mallory', 'mixed', 300, 'blocked'),
          row('alpha', 'alice', 'solo', 400, 'success'),
        ]).execute();
        // Summaries as 0015 kept them; `solo` counts one more call than its stored events (retention removed one).
        await store.db.insertInto('event_sessions').values([
          { tenant_id: 't1', session_id: 'mixed', agent_id: 'zeta', user_id: 'zz-mallory', calls: 3, blocked: 1, first_ts: 100, last_ts: 300 },
          { tenant_id: 't1', session_id: 'solo', agent_id: 'alpha', user_id: 'alice', calls: 2, blocked: 0, first_ts: 50, last_ts: 400 },
        ] as never).execute();
        await runMigrations(store.db, store.dialect, MIGRATIONS);
        const summary = async (agentId?: string) => (await store.events.sessions('t1', { agentId, limit: 10 }))
          .map((s) => [s.session_id, s.agent_id, s.user_id, s.calls, s.blocked, s.first_ts, s.last_ts]);
        expect(await summary()).toEqual([
          ['solo', 'alpha', 'alice', 2, 0, 50, 400],
          ['mixed', 'zeta', 'zz-mallory', 1, 1, 300, 300],
          ['mixed', 'alpha', 'alice', 2, 0, 100, 200],
        ]);
        expect((await summary('alpha')).map(([session]) => session)).toEqual(['solo', 'mixed']);
        // Later events add to their own agent's summary only.
        await store.events.insertMany('t1', [{
          tenantId: 't1', eventId: 'later', eventType: 'TOOL_CALL_POST', sourceType: 'SDK', agentId: 'zeta', userId: 'zz-mallory', sessionId: 'solo',
          toolName: 'read', callId: 'c-later', decisionId: null, ts: 500, receivedAt: 500, durationMs: null, outcome: 'blocked', redaction: 'full',
          arguments: undefined, result: undefined, error: null,
        }]);
        expect((await summary('alpha'))[0]).toEqual(['solo', 'alpha', 'alice', 2, 0, 50, 400]);
        expect(await summary('zeta')).toEqual([['solo', 'zeta', 'zz-mallory', 1, 1, 500, 500], ['mixed', 'zeta', 'zz-mallory', 1, 1, 300, 300]]);
      } finally {
        await dispose();
      }
    });
  });
}
