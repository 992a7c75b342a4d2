import { expect, it } from 'vitest';
import { describeStoreConformance } from '../../../../../test-utils/index.js';

// Compliance evaluations (migration 0008) behave the same on SQLite and PostgreSQL.
describeStoreConformance('compliance', (getStore) => {
  const row = (tenantId: string, framework: string, evaluatedAt: number, coveragePercent: number) => ({
    tenantId, agentId: 7, framework, status: 'DOCUMENTED', coveragePercent, report: { framework, controls: [{ id: 'CC6.1' }] }, ledgerIndex: 3, evaluatedAt,
  });

  it('returns the newest evaluation per framework, scoped by tenant, agent and start time', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'c1', name: 'c1', createdAt: 1 });
    await store.tenants.create({ id: 'c2', name: 'c2', createdAt: 1 });
    const first = await store.compliance.insert(row('c1', 'soc2', 100, 50));
    expect(first).toMatchObject({ tenantId: 'c1', agentId: 7, coveragePercent: 50, ledgerIndex: 3, report: { framework: 'soc2' } });
    await store.compliance.insert(row('c1', 'soc2', 200, 75));
    await store.compliance.insert(row('c1', 'eu_ai_act', 300, 10));
    expect((await store.compliance.latest('c1', 7, 'soc2', 0))?.coveragePercent).toBe(75);
    expect((await store.compliance.latest('c1', 7, 'eu_ai_act', 0))?.evaluatedAt).toBe(300);
    expect(await store.compliance.latest('c2', 7, 'soc2', 0)).toBeUndefined();
    expect(await store.compliance.latest('c1', 8, 'soc2', 0)).toBeUndefined();
    // Rows older than the agent (an earlier agent with the same id) are not its cache.
    expect(await store.compliance.latest('c1', 7, 'soc2', 201)).toBeUndefined();
  });

  it('lists the append-only triggers of the ledger tables', async () => {
    const store = getStore();
    const triggers = await store.compliance.triggersOn(['ledger_records']);
    expect(triggers).toEqual(store.dialect === 'sqlite' ? ['ledger_records_no_delete', 'ledger_records_no_update'] : ['ledger_records_append_only', 'ledger_records_no_truncate']);
    expect(await store.compliance.triggersOn(['tenants'])).toEqual([]);
  });
});
