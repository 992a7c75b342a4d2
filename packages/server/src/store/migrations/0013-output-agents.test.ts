import { describe, expect, it } from 'vitest';
import { openTestPostgresStore, openTestSqliteStore, postgresTestUrl, type TestStore } from '../../../../../test-utils/index.js';
import { decisionRow } from '../repositories/decisions.js';
import { MIGRATIONS, runMigrations } from './index.js';

const pgUrl = postgresTestUrl('migration 0013');

/** Stores with no migration applied: each test applies them up to the one under test. */
const cases: Array<[string, () => Promise<TestStore>, boolean]> = [
  ['sqlite', () => openTestSqliteStore({ migrate: false }), true],
  ['postgres', () => openTestPostgresStore(pgUrl ?? '', { migrate: false }), Boolean(pgUrl)],
];

for (const [dialect, open, enabled] of cases) {
  describe.skipIf(!enabled)(`migration 0013 (output agents) on ${dialect}`, () => {
    it('gives outputs recorded before it the agent of their decision, else of their session; others stay unread', async () => {
      const { store, dispose } = await open();
      try {
        await runMigrations(store.db, store.dialect, MIGRATIONS.filter((migration) => migration.version <= 12));
        await store.tenants.create({ id: 't1', name: 't1', createdAt: 1 });
        await store.tenants.create({ id: 't2', name: 't2', createdAt: 1 });
        const row = decisionRow({
          id: 'dec_1', tenantId: 't1', ts: 100, agentId: 'reader', userId: 'u', sessionId: 's-a', toolName: 'read_customer', callId: null,
          requestedMode: 'block', mode: 'block', decision: 'ALLOW', verdict: 'ALLOW', wouldHaveBeen: null, reason: 'ok', violationId: null,
          severity: null, holdId: null, policyId: null, policyVersion: null, matchedRules: [], shadow: [], errors: [], arguments: {}, approvedScope: null, context: {},
        });
        await store.db.insertInto('decisions').values(row).execute();
        // The same decision id in another tenant must not lend its agent.
        await store.db.insertInto('decisions').values({ ...row, tenant_id: 't2', agent_id: 'intruder' }).execute();
        await store.db.insertInto('enforcement_sessions').values({ tenant_id: 't1', session_id: 's-b', agent_id: 'reader', state: '{}', updated_at: 1 }).execute();
        const output = (decisionId: string, sessionId: string, ts: number) => ({
          tenant_id: 't1', decision_id: decisionId, session_id: sessionId, tool_name: 'read_customer', ts, decision: 'ALLOW', reason: 'ok',
          taints: JSON.stringify({ added: [[`fp-${decisionId}`, ['pii']]], windowSizes: [1] }),
        });
        // Kysely's table type has agent_id now; these rows are written as a release before 0013 wrote them.
        const old = store.db as unknown as { insertInto(table: string): { values(rows: unknown[]): { execute(): Promise<unknown> } } };
        await old.insertInto('decision_outputs').values([output('dec_1', 's-a', 100), output('out_2', 's-b', 200), output('out_3', 's-unknown', 300)]).execute();
        await runMigrations(store.db, store.dialect, MIGRATIONS);
        const found = await store.decisions.agentOutputs('t1', 'reader', { since: 0, limit: 10 });
        expect(found.map((o) => [o.decisionId, o.agentId])).toEqual([['out_2', 'reader'], ['dec_1', 'reader']]);
        expect(await store.decisions.agentOutputs('t1', 'intruder', { since: 0, limit: 10 })).toEqual([]);
        expect(await store.decisions.agentOutputs('t2', 'intruder', { since: 0, limit: 10 })).toEqual([]);
      } finally {
        await dispose();
      }
    });
  });
}
