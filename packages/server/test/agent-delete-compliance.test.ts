import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Deleting a sandboxed agent left its stored compliance evaluations (table compliance_evaluations) behind: rows no
// API could reach any more, kept forever. They now go in the transaction that deletes the agent's other rows.

const CONFIG = { sandbox_template: 'STRICT', permissions: ['data:read'], compliance: ['soc2', 'eu_ai_act'] };
const pgUrl = postgresTestUrl('agent delete removes compliance evaluations on PostgreSQL');

async function storedEvaluations(t: TestServer, agentId: number): Promise<number> {
  const row = await t.store.db
    .selectFrom('compliance_evaluations')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('tenant_id', '=', t.tenantA.id)
    .where('agent_id', '=', agentId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

describe.each([
  ['SQLite', undefined],
  ['PostgreSQL', pgUrl],
])('deleting an agent on %s', (dialect, postgresUrl) => {
  const skip = dialect === 'PostgreSQL' && !postgresUrl;
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer({ postgresUrl });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const register = async (name: string) => {
    const created = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name, config: CONFIG } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.agent.id as number;
  };
  const evaluate = async (agentId: number) => {
    const evaluated = await t.request('POST', `/api/v1/sdk/agents/${agentId}/compliance/evaluate`, { key, body: {} });
    expect(evaluated.status, JSON.stringify(evaluated.body)).toBe(200);
    return evaluated.body as { frameworks: Record<string, { ledger_index: number }> };
  };

  it.skipIf(skip)('removes its stored evaluations, keeps other agents\' and the ledger records, and a new agent of the same name starts fresh', async () => {
    const agentId = await register('audited');
    const bystander = await register('bystander');
    await evaluate(agentId);
    const last = await evaluate(agentId);
    await evaluate(bystander);
    expect(await storedEvaluations(t, agentId)).toBe(4); // two evaluations × two frameworks
    expect(await storedEvaluations(t, bystander)).toBe(2);

    const deleted = await t.request('DELETE', `/api/v1/sdk/agents/${agentId}`, { key });
    expect(deleted.status).toBe(200);
    expect(await storedEvaluations(t, agentId)).toBe(0);
    expect(await storedEvaluations(t, bystander)).toBe(2);
    expect((await t.request('GET', `/api/v1/sdk/agents/${bystander}/compliance`, { key })).body.frameworks.soc2).toBeDefined();
    expect((await t.request('GET', `/api/v1/sdk/agents/${agentId}/compliance`, { key })).status).toBe(404);
    // The ledger is append-only: the evaluations stay provable there.
    const records = await t.request('GET', `/api/v1/audit/records?limit=100&actionTypes=compliance.evaluated&agentId=${agentId}`, { key });
    expect(records.status).toBe(200);
    expect(records.body.events).toHaveLength(2);

    const reborn = await register('audited');
    expect(reborn).not.toBe(agentId);
    expect(await storedEvaluations(t, reborn)).toBe(0);
    const fresh = await t.request('GET', `/api/v1/sdk/agents/${reborn}/compliance`, { key });
    expect(fresh.status).toBe(200);
    expect(fresh.body.agent_id).toBe(reborn);
    expect(fresh.body.frameworks.soc2.ledger_index).toBeGreaterThan(last.frameworks.soc2!.ledger_index);
    expect(await storedEvaluations(t, reborn)).toBe(2);
  });
});
