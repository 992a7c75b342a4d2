import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresTestUrl, type TestDatabase } from '../../../../../test-utils/index.js';
import { migration0001 } from '../migrations/0001-foundation.js';
import { migration0005 } from '../migrations/0005-sandbox.js';
import { runMigrations } from '../migrations/index.js';
import { openPostgresStore } from '../postgres/index.js';
import { openSqliteStore } from '../sqlite/index.js';
import type { Store } from '../types.js';
import { createCredentialRepository } from './credentials.js';
import { createPermissionRequestRepository } from './permission-requests.js';
import { createSandboxAgentRepository } from './sandbox-agents.js';
import { createSandboxExecutionRepository } from './sandbox-executions.js';
import { createSandboxSigningKeyRepository } from './sandbox-signing-keys.js';

const pgUrl = postgresTestUrl('sandbox repositories');

// One suite, run against both dialects (the store conformance convention).
function conformance(name: string, open: () => Promise<{ store: Store; done: () => Promise<void> }>) {
  describe(`sandbox repositories on ${name}`, () => {
    let store: Store;
    let done: () => Promise<void>;
    let repos: ReturnType<typeof build>;
    const build = (s: Store) => ({
      agents: createSandboxAgentRepository(s.db, s.dialect),
      executions: createSandboxExecutionRepository(s.db, s.dialect),
      requests: createPermissionRequestRepository(s.db, s.dialect),
      credentials: createCredentialRepository(s.db, s.dialect),
      keys: createSandboxSigningKeyRepository(s.db, s.dialect),
    });
    beforeAll(async () => {
      ({ store, done } = await open());
      await runMigrations(store.db, store.dialect, [migration0001, migration0005]);
      await store.tenants.create({ id: 't1', name: 't1', createdAt: 1 });
      await store.tenants.create({ id: 't2', name: 't2', createdAt: 1 });
      repos = build(store);
    });
    afterAll(async () => {
      await done?.();
    });

    it('agents: upsert by name per tenant, update, context, delete with executions', async () => {
      const fields = { name: 'a', version: '1', description: null, entryCode: 'return 1;', config: { memory_limit_mb: 64 }, status: 'ready' };
      const first = await repos.agents.upsertByName('t1', fields, 10);
      expect(first.created).toBe(true);
      expect(Number.isInteger(first.agent.id)).toBe(true);
      const again = await repos.agents.upsertByName('t1', { ...fields, version: '2' }, 20);
      expect(again).toMatchObject({ created: false, agent: { id: first.agent.id, version: '2', createdAt: 10, updatedAt: 20 } });
      const other = await repos.agents.upsertByName('t2', fields, 10);
      expect(other.agent.id).not.toBe(first.agent.id);
      expect((await repos.agents.list('t1')).map((a) => a.name)).toEqual(['a']);
      expect(await repos.agents.get('t2', first.agent.id)).toBeUndefined();
      await repos.agents.setContext('t1', first.agent.id, 'k', { n: 1 }, 30);
      await repos.agents.setContext('t1', first.agent.id, 'k', { n: 2 }, 31);
      expect(await repos.agents.getContext('t1', first.agent.id, 'k')).toEqual({ n: 2 });
      expect(await repos.agents.getContext('t2', first.agent.id, 'k')).toBeNull();
      const execution = await repos.executions.start({ tenantId: 't1', agentId: first.agent.id, input: { x: 1 }, resolvedConfig: {}, codeHash: 'c', inputHash: 'i', startedAt: 40 });
      expect(await repos.agents.delete('t2', first.agent.id)).toBe(false);
      expect(await repos.agents.delete('t1', first.agent.id)).toBe(true);
      expect(await repos.executions.get('t1', execution.id)).toBeUndefined();
      expect(await repos.agents.getContext('t1', first.agent.id, 'k')).toBeNull();
    });

    it('agents: replaceConfigIf is compare-and-set on the config, per tenant', async () => {
      const fields = { name: 'cas', version: '1', description: null, entryCode: 'return 1;', config: { permissions: ['a'], note: 'é \u2028 "q"' }, status: 'ready' };
      const { agent } = await repos.agents.upsertByName('t1', fields, 10);
      const read = (await repos.agents.get('t1', agent.id))!.config;
      expect(await repos.agents.replaceConfigIf('t2', agent.id, read, { permissions: ['x'] }, 11)).toBe(false);
      expect(await repos.agents.replaceConfigIf('t1', agent.id, read, { permissions: ['a', 'b'] }, 12)).toBe(true);
      expect(await repos.agents.get('t1', agent.id)).toMatchObject({ config: { permissions: ['a', 'b'] }, updatedAt: 12 });
      // A writer holding the config it read before that change loses, and changes nothing.
      expect(await repos.agents.replaceConfigIf('t1', agent.id, read, { permissions: ['a', 'c'] }, 13)).toBe(false);
      expect(await repos.agents.get('t1', agent.id)).toMatchObject({ config: { permissions: ['a', 'b'] }, updatedAt: 12 });
    });

    it('executions: start, finish, ledger index, paged listing by status, tenant scoping', async () => {
      const { agent } = await repos.agents.upsertByName('t1', { name: 'runner', version: '1', description: null, entryCode: 'x', config: {}, status: 'ready' }, 1);
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = await repos.executions.start({ tenantId: 't1', agentId: agent.id, input: { i }, resolvedConfig: { template: null }, codeHash: 'c', inputHash: `i${i}`, startedAt: 100 + i });
        expect(started.status).toBe('running');
        ids.push(started.id);
      }
      await repos.executions.finish('t1', ids[0]!, {
        status: 'completed', output: { ok: true }, error: null, logs: [{ level: 'info', message: 'hi' }], hostCallAudit: [{ fn: 'log' }],
        resourceUsage: { cpu_ms: 1 }, violationCount: 0, wasTerminated: false, terminationReason: null, outputHash: 'o', finishedAt: 200,
      });
      await repos.executions.setLedgerIndex('t1', ids[0]!, 7);
      expect(await repos.executions.get('t1', ids[0]!)).toMatchObject({
        status: 'completed', output: { ok: true }, logs: [{ level: 'info', message: 'hi' }], resourceUsage: { cpu_ms: 1 }, ledgerIndex: 7, finishedAt: 200, wasTerminated: false, input: { i: 0 },
      });
      expect(await repos.executions.get('t2', ids[0]!)).toBeUndefined();
      const page = await repos.executions.listByAgent('t1', agent.id, { limit: 2 });
      expect(page.total).toBe(3);
      expect(page.executions.map((e) => e.id)).toEqual([ids[2], ids[1]]);
      const completed = await repos.executions.listByAgent('t1', agent.id, { status: 'completed' });
      expect(completed).toMatchObject({ total: 1, executions: [{ id: ids[0] }] });
      // The quota's lookup: the n-th newest execution of the agent, nothing past the end, nothing of another tenant.
      expect((await repos.executions.nthNewest('t1', agent.id, 1))?.id).toBe(ids[2]);
      expect((await repos.executions.nthNewest('t1', agent.id, 3))?.id).toBe(ids[0]);
      expect(await repos.executions.nthNewest('t1', agent.id, 4)).toBeUndefined();
      expect(await repos.executions.nthNewest('t2', agent.id, 1)).toBeUndefined();
      expect(await repos.executions.nthNewest('t1', agent.id, 0)).toBeUndefined();
    });

    it('permission requests: decide is compare-and-set; due listing finds expired pending ones', async () => {
      const request = await repos.requests.create({ tenantId: 't1', agentId: 1, permissions: { allow_network: true }, justification: 'j', createdAt: 1, expiresAt: 100 });
      expect(request.status).toBe('pending');
      expect((await repos.requests.listDue(100, 10)).map((r) => r.id)).toContain(request.id);
      expect(await repos.requests.decide('t2', request.id, { status: 'approved', decidedAt: 2, decidedBy: 'x', comment: null })).toBeUndefined();
      expect(await repos.requests.decide('t1', request.id, { status: 'denied', decidedAt: 2, decidedBy: 'x', comment: 'no' })).toMatchObject({ status: 'denied', comment: 'no' });
      expect(await repos.requests.decide('t1', request.id, { status: 'approved', decidedAt: 3, decidedBy: 'y', comment: null })).toBeUndefined();
      expect((await repos.requests.list('t1', 'denied')).map((r) => r.id)).toContain(request.id);
      expect(await repos.requests.list('t2')).toEqual([]);
    });

    it('credentials: one active name per tenant, revoke once, revoked name reusable', async () => {
      const base = { tenantId: 't1', name: 'k', type: 'api_key', description: null, sealedValue: 'tgv1.x.y', keyId: 'abcd', createdAt: 1, revokedAt: null, rotatedFrom: null, lastUsedAt: null };
      await repos.credentials.create({ ...base, id: 'cred_1' });
      await expect(repos.credentials.create({ ...base, id: 'cred_2' })).rejects.toThrow();
      await repos.credentials.create({ ...base, id: 'cred_3', tenantId: 't2' });
      expect(await repos.credentials.revoke('t2', 'cred_1', 5)).toBe(false);
      expect(await repos.credentials.revoke('t1', 'cred_1', 5)).toBe(true);
      expect(await repos.credentials.revoke('t1', 'cred_1', 6)).toBe(false);
      await repos.credentials.create({ ...base, id: 'cred_4', rotatedFrom: 'cred_1' });
      expect((await repos.credentials.getActiveByName('t1', 'k'))?.id).toBe('cred_4');
      await repos.credentials.markUsed('t1', 'cred_4', 9);
      expect((await repos.credentials.get('t1', 'cred_4'))?.lastUsedAt).toBe(9);
      expect((await repos.credentials.list('t1')).map((c) => c.id).sort()).toEqual(['cred_1', 'cred_4']);
    });

    it('ids tenants see are not a shared count: tenant A cannot tell how many rows tenant B created in between', async () => {
      // A row stored under the old scheme (a sequence number) keeps its id, and new ids sort after it.
      await sql`INSERT INTO sandbox_agents (id, tenant_id, name, version, description, entry_code, config, status, created_at, updated_at)
        VALUES (7, 't1', 'legacy', '1', NULL, 'return 1;', '{}', 'ready', 1, 1)`.execute(store.db);
      const fields = { version: '1', description: null, entryCode: 'return 1;', config: {}, status: 'ready' };
      const a1 = (await repos.agents.upsertByName('t1', { ...fields, name: 'ids-a1' }, 50)).agent;
      const created: number[] = [];
      for (let i = 0; i < 40; i += 1) created.push((await repos.agents.upsertByName('t2', { ...fields, name: `ids-b${i}` }, 50)).agent.id);
      const a2 = (await repos.agents.upsertByName('t1', { ...fields, name: 'ids-a2' }, 50)).agent;
      const ids = [a1.id, ...created, a2.id];
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) {
        expect(Number.isSafeInteger(id)).toBe(true);
        expect(id).toBeGreaterThan(7);
      }
      // Not a sequence: 42 rows in a row would differ by 1 each (a2 − a1 = 41); these are ms × 1024 + random.
      const steps = ids.slice(1).map((id, i) => id - ids[i]!);
      for (const step of steps) expect(step).toBeGreaterThan(0);
      expect(steps.filter((step) => step === 1).length).toBeLessThan(steps.length / 2);
      expect(a2.id - a1.id).toBeGreaterThan(41);
      expect(Math.abs(Math.floor(a1.id / 1024) - Date.now())).toBeLessThan(60_000);
      // The legacy row is first in id order, and the new rows are found by their ids.
      expect((await repos.agents.list('t1')).map((agent) => agent.name).indexOf('legacy')).toBe(0);
      expect((await repos.agents.get('t1', a2.id))?.name).toBe('ids-a2');
      const request = await repos.requests.create({ tenantId: 't1', agentId: a1.id, permissions: { allow_network: true }, justification: null, createdAt: 1, expiresAt: 100 });
      const execution = await repos.executions.start({ tenantId: 't1', agentId: a1.id, input: null, resolvedConfig: {}, codeHash: 'c', inputHash: 'i', startedAt: 1 });
      for (const id of [request.id, execution.id]) expect(id).toBeGreaterThan(1_000_000_000_000_000);
      expect((await repos.requests.get('t1', request.id))?.id).toBe(request.id);
      expect((await repos.executions.get('t1', execution.id))?.id).toBe(execution.id);
    });

    it('signing key: the first key wins', async () => {
      const first = await repos.keys.createIfAbsent({ id: 'k1', publicKey: 'p1', sealedPrivateKey: 's1', createdAt: 1 });
      const second = await repos.keys.createIfAbsent({ id: 'k2', publicKey: 'p2', sealedPrivateKey: 's2', createdAt: 2 });
      expect(second).toEqual(first);
    });
  });
}

conformance('SQLite', async () => {
  const store = openSqliteStore({ filename: ':memory:' });
  return { store, done: () => store.close() };
});

describe.skipIf(!pgUrl)('PostgreSQL', () => {
  conformance('PostgreSQL', async () => {
    const database: TestDatabase = await createTestDatabase(pgUrl!);
    const store = openPostgresStore({ connectionString: database.url });
    return { store, done: async () => { await store.close(); await database.drop(); } };
  });
});
