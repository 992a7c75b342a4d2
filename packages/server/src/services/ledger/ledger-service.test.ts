import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { merkle, openCheckpoint, parseVerifierKey, verifyBundle } from '@tollgate/core';
import { createTestDatabase, postgresTestUrl } from '../../../../../test-utils/index.js';
import type { TestDatabase } from '../../../../../test-utils/index.js';
import { MIGRATIONS, openPostgresStore, openSqliteStore, runMigrations } from '../../store/index.js';
import { migration0003 } from '../../store/migrations/0003-ledger.js';
import { createLedgerRepository } from '../../store/repositories/ledger.js';
import type { Store } from '../../store/index.js';
import { createInProcessBus } from '../bus.js';
import { manualClock } from '../clock.js';
import { Vault } from '../vault/vault.js';
import { LedgerService } from './ledger-service.js';
import type { LedgerServiceOptions } from './ledger-service.js';

interface Harness {
  store: Store;
  vault: Vault;
  service(options?: Partial<LedgerServiceOptions>): LedgerService;
  /** Runs SQL as the database owner would (bypassing the service). */
  exec(statement: string): Promise<void>;
  close(): Promise<void>;
}

async function sqliteHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-ledger-'));
  const store = openSqliteStore({ filename: join(dir, 'ledger.db') });
  return harness(store, async () => rm(dir, { recursive: true, force: true }));
}

async function postgresHarness(url: string): Promise<Harness> {
  const database: TestDatabase = await createTestDatabase(url);
  return harness(openPostgresStore({ connectionString: database.url }), () => database.drop());
}

async function harness(base: Store, cleanup: () => Promise<void>): Promise<Harness> {
  const migrations = MIGRATIONS.some((m) => m.version === 3) ? MIGRATIONS : [...MIGRATIONS, migration0003];
  await runMigrations(base.db, base.dialect, migrations);
  const store = { ...base, ledger: (base as Partial<Store>).ledger ?? createLedgerRepository(base.db, base.dialect) } as Store;
  const vault = new Vault(randomBytes(32));
  const services: LedgerService[] = [];
  return {
    store,
    vault,
    service(options = {}) {
      const service = new LedgerService({ store, clock: manualClock(Date.parse('2026-03-01T00:00:00Z')), bus: createInProcessBus(), keyWrapper: vault, origin: 'tollgate.test', ...options });
      services.push(service);
      return service;
    },
    async exec(statement) {
      const native = store.native;
      if (native.dialect === 'sqlite') native.database.exec(statement);
      else await native.pool.query(statement);
    },
    async close() {
      for (const service of services) await service.close();
      await store.close();
      await cleanup();
    },
  };
}

const entry = (i: number) => ({ type: i % 4 === 0 ? 'enforce.violation' : 'enforce.decision', agentId: `agent-${i % 3}`, isViolation: i % 4 === 0, data: { n: i, toolName: 'send_email' } });

function ledgerSuite(name: string, open: () => Promise<Harness>) {
  describe(`ledger service on ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await open();
    });
    afterAll(async () => h?.close());

    it('appends dense indexes per tenant, and proofs verify against a signed checkpoint', async () => {
      const ledger = h.service();
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => ledger.append('acme', entry(i))));
      expect(results.map((r) => r.index)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect((await ledger.append('other', entry(0))).index).toBe(0);
      const checkpoint = await ledger.checkpoint('acme');
      expect(checkpoint.size).toBe(300);
      const key = parseVerifierKey(checkpoint.publicKey);
      const opened = openCheckpoint(checkpoint.note, key, 'tollgate.test/acme');
      for (const index of [0, 1, 150, 299]) {
        const proof = await ledger.inclusionProof('acme', index);
        expect(proof.rootHash).toBe(checkpoint.rootHash);
        expect(merkle.verifyInclusion(merkle.fromHex(proof.leafHash), index, proof.size, proof.proof.map(merkle.fromHex), opened.rootHash)).toBe(true);
      }
      const more = await Promise.all(Array.from({ length: 77 }, (_, i) => ledger.append('acme', entry(300 + i))));
      expect(more.at(-1)?.index).toBe(376);
      const later = await ledger.checkpoint('acme');
      const consistency = await ledger.consistencyProof('acme', 300, later.size);
      expect(consistency.fromRootHash).toBe(checkpoint.rootHash);
      expect(merkle.verifyConsistency(300, 377, opened.rootHash, merkle.fromHex(later.rootHash), consistency.proof.map(merkle.fromHex))).toBe(true);
    });

    it('refuses a bad entry alone: the rest of its batch commits with dense indexes', async () => {
      const ledger = h.service();
      const outcomes = await Promise.allSettled([
        ledger.append('batchy', entry(0)),
        ledger.append('batchy', { type: 'x.y', data: { big: 10n } }),
        ledger.append('batchy', { type: 'not valid type!', data: {} }),
        ledger.append('batchy', entry(1)),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.index : null))).toEqual([0, null, null, 1]);
    });

    it('continues the same tree after a restart, with the same signing key', async () => {
      const first = h.service();
      await Promise.all(Array.from({ length: 37 }, (_, i) => first.append('restart', entry(i))));
      const before = await first.checkpoint('restart');
      await first.close();
      const second = h.service();
      await Promise.all(Array.from({ length: 29 }, (_, i) => second.append('restart', entry(37 + i))));
      const after = await second.checkpoint('restart');
      expect(after.size).toBe(66);
      expect(after.publicKey).toBe(before.publicKey);
      const proof = await second.consistencyProof('restart', 37, 66);
      expect(merkle.verifyConsistency(37, 66, merkle.fromHex(before.rootHash), merkle.fromHex(after.rootHash), proof.proof.map(merkle.fromHex))).toBe(true);
      const bundle = await second.bundle('restart');
      expect(verifyBundle(bundle, { trustedCheckpoint: before.note })).toMatchObject({ ok: true, size: 66 });
    });

    it('signs a checkpoint every N records', async () => {
      const ledger = h.service({ checkpointEvery: 10 });
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 6 }, (_, i) => ledger.append('every', entry(i))));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const sizes = (await h.store.ledger.checkpoints('every')).map((c) => c.size);
      // Batch boundaries vary (group commit), but exactly one checkpoint falls between 10 and 12 records.
      expect(sizes).toHaveLength(1);
      expect(sizes[0]).toBeGreaterThanOrEqual(10);
    });

    it('stores the signing key sealed, never in clear', async () => {
      const ledger = h.service();
      await ledger.start();
      const stored = await h.store.ledger.signingKey();
      expect(stored?.sealedPrivateKey.startsWith('tgv1.')).toBe(true);
      await expect(h.service({ keyWrapper: new Vault(randomBytes(32)) }).signingKey()).rejects.toMatchObject({ code: 'LEDGER_KEY_UNAVAILABLE' });
    });

    it.each(['ledger_records', 'ledger_nodes', 'ledger_checkpoints', 'ledger_signing_keys'])(
      'refuses UPDATE and DELETE on %s',
      async (table) => {
        const ledger = h.service();
        await Promise.all(Array.from({ length: 8 }, (_, i) => ledger.append('triggers', entry(i)))); // 8 leaves: a stored node
        await ledger.checkpoint('triggers');
        const column = table === 'ledger_signing_keys' ? 'created_at' : table === 'ledger_nodes' ? 'pos' : table === 'ledger_records' ? 'recorded_at' : 'created_at';
        await expect(h.exec(`UPDATE ${table} SET ${column} = ${column} + 1`)).rejects.toThrow(/append-only/);
        await expect(h.exec(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
        if (h.store.dialect === 'postgres') await expect(h.exec(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
      },
    );

    it('an owner who disables the triggers and edits records is caught by the checkpoint they cannot re-sign', async () => {
      const ledger = h.service();
      await Promise.all(Array.from({ length: 40 }, (_, i) => ledger.append('tamper', entry(i))));
      const trusted = (await ledger.checkpoint('tamper')).note;
      expect((await ledger.verifyRecord('tamper', 5)).verified).toBe(true);
      const sqlite = h.store.dialect === 'sqlite';
      const record = (await h.store.ledger.record('tamper', 5))!;
      const forgedBody = record.body.replace('"isViolation":false', '"isViolation":true').replace('"n":5', '"n":555');
      await h.exec(sqlite ? 'DROP TRIGGER ledger_records_no_update' : 'ALTER TABLE ledger_records DISABLE TRIGGER ledger_records_append_only');
      await h.exec(`UPDATE ledger_records SET body = '${forgedBody}' WHERE tenant_id = 'tamper' AND idx = 5`);
      expect((await ledger.verifyRecord('tamper', 5)).verified).toBe(false);
      const result = verifyBundle(await ledger.bundle('tamper'), { trustedCheckpoint: trusted });
      expect(result.ok).toBe(false);
      expect(result.problems.map((p) => p.code)).toContain('CHECKPOINT_ROOT_MISMATCH');
      await h.exec(sqlite
        ? `CREATE TRIGGER ledger_records_no_update BEFORE UPDATE ON ledger_records BEGIN SELECT RAISE(ABORT, 'ledger_records is append-only: UPDATE refused'); END`
        : 'ALTER TABLE ledger_records ENABLE TRIGGER ledger_records_append_only');
    });

    it('keeps time monotonic along the log and answers time ranges by index', async () => {
      const clock = manualClock(Date.parse('2026-05-01T00:00:00Z'));
      const ledger = h.service({ clock });
      await ledger.append('times', entry(0));
      clock.advance(60_000);
      await ledger.append('times', entry(1));
      clock.advance(-30_000); // the wall clock stepped back
      await ledger.append('times', entry(2));
      clock.advance(90_000);
      await ledger.append('times', entry(3));
      const records = (await h.store.ledger.records('times', {}, 10)).map((r) => r.recordedAt - Date.parse('2026-05-01T00:00:00Z'));
      expect(records).toEqual([0, 60_000, 60_000, 120_000]);
      const t0 = Date.parse('2026-05-01T00:00:00Z');
      const between = await h.store.ledger.records('times', { fromMs: t0 + 1, toMs: t0 + 60_000 }, 10);
      expect(between.map((r) => r.index)).toEqual([1, 2]);
      expect(await h.store.ledger.count('times', { fromMs: t0 + 60_001 })).toBe(1);
      expect(await h.store.ledger.firstIndexAtOrAfter('times', t0 + 200_000)).toBe(4);
      expect(await h.store.ledger.firstIndexAtOrAfter('times', 0)).toBe(0);
    });

    it('rejects proofs outside the log', async () => {
      const ledger = h.service();
      await ledger.append('range', entry(0));
      await expect(ledger.inclusionProof('range', 1, 1)).rejects.toMatchObject({ code: 'LEDGER_RANGE_INVALID' });
      await expect(ledger.inclusionProof('range', 0, 2)).rejects.toMatchObject({ code: 'LEDGER_RANGE_INVALID' });
      await expect(ledger.consistencyProof('range', 1, 0)).rejects.toMatchObject({ code: 'LEDGER_RANGE_INVALID' });
      await expect(ledger.verifyRecord('range', 7)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
}

ledgerSuite('SQLite', sqliteHarness);
const pgUrl = postgresTestUrl('ledger service');
if (pgUrl) ledgerSuite('PostgreSQL', () => postgresHarness(pgUrl));

describe('stored subtrees', () => {
  it('proofs and restarts agree with an in-memory tree at every size around the stored-level boundaries', async () => {
    const h = await sqliteHarness();
    try {
      const ledger = h.service();
      const leaves: Uint8Array[] = [];
      for (let size = 1; size <= 70; size++) {
        await ledger.append('sizes', entry(size));
        const body = (await h.store.ledger.record('sizes', size - 1))!.body;
        leaves.push(merkle.hashLeafText(body));
        const tree = leaves.slice();
        for (const index of new Set([0, size - 1, Math.floor(size / 2)])) {
          const proof = await ledger.inclusionProof('sizes', index, size);
          expect(proof.proof).toEqual(merkle.inclusionProof(index, size, tree).map(merkle.toHex));
          expect(proof.rootHash).toBe(merkle.toHex(merkle.rootHash(tree)));
        }
        if (size % 9 === 0) {
          const fresh = h.service();
          const proof = await fresh.consistencyProof('sizes', Math.floor(size / 3), size);
          expect(proof.proof).toEqual(merkle.consistencyProof(Math.floor(size / 3), size, tree).map(merkle.toHex));
        }
      }
      // A restarted service rebuilds its frontier from stored nodes and bodies, then continues the same tree.
      const restarted = h.service();
      await restarted.append('sizes', entry(71));
      leaves.push(merkle.hashLeafText((await h.store.ledger.record('sizes', 70))!.body));
      expect((await restarted.checkpoint('sizes')).rootHash).toBe(merkle.toHex(merkle.rootHash(leaves)));
    } finally {
      await h.close();
    }
  });
});

describe('appends and caller transactions on SQLite', () => {
  it('does not write into another request’s transaction that rolls back', async () => {
    const h = await sqliteHarness();
    try {
      const ledger = h.service();
      const rolledBack = h.store
        .transaction(async (tx) => {
          await tx.tenants.create({ id: 'tx-tenant', name: 'x', createdAt: 1 } as never);
          await new Promise((resolve) => setTimeout(resolve, 30));
          throw new Error('abort this transaction');
        })
        .catch(() => 'rolled back');
      const appended = await ledger.append('concurrent', entry(0));
      expect(await rolledBack).toBe('rolled back');
      expect(appended.index).toBe(0);
      expect(await h.store.ledger.size('concurrent')).toBe(1);
      expect((await ledger.verifyRecord('concurrent', 0)).verified).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('an append awaited inside the caller’s own transaction joins it instead of deadlocking', async () => {
    const h = await sqliteHarness();
    try {
      const ledger = h.service();
      const result = await h.store.transaction(async () => ledger.append('inside', entry(0)));
      expect(result.index).toBe(0);
      expect(await h.store.ledger.size('inside')).toBe(1);
    } finally {
      await h.close();
    }
  });
});
