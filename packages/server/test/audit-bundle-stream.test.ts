// Streaming ledger bundles (JSON Lines, format v2): exported page by page from a real store, verified offline, continued
// from a kept checkpoint; the one-document bundle refused past its cap instead of being built in memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_STREAM_FORMAT, verifyBundleLines } from '@tollgate/core';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const linesOf = (text: string) => text.split('\n').filter((line) => line !== '');

function suite(name: string, postgresUrl: string | undefined) {
  describe(`streaming ledger bundles on ${name}`, () => {
    let t: TestServer;
    let kept: { size: number; note: string };
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl, config: { auditBundleJsonMaxRecords: 40, ledgerCheckpointEvery: 1_000_000 } });
      for (let round = 0; round < 4; round++) {
        await Promise.all(Array.from({ length: 11 }, (_, i) => t.services.ledger.append(t.tenantA.id, { type: 'enforce.decision', agentId: 'a', data: { n: round * 11 + i } })));
        const checkpoint = await t.services.ledger.checkpoint(t.tenantA.id);
        if (round === 1) kept = { size: checkpoint.size, note: checkpoint.note };
      }
      await t.services.ledger.append(t.tenantB.id, { type: 'enforce.decision', data: { secretOfB: true } });
    });
    afterAll(async () => {
      await t?.close();
    });

    const get = (path: string, key = t.tenantA.adminKey) => fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

    it('streams the whole log as JSON Lines that verify offline, with the range in headers', async () => {
      const response = await get('/api/v1/audit/bundle?format=jsonl');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const lines = linesOf(await response.text());
      const header = JSON.parse(lines[0] as string) as { format: string; from: number; to: number; frontier: string[] };
      expect(header).toMatchObject({ format: BUNDLE_STREAM_FORMAT, from: 0, frontier: [] });
      expect(response.headers.get('x-tollgate-bundle-from')).toBe('0');
      expect(response.headers.get('x-tollgate-bundle-to')).toBe(String(header.to));
      expect(lines.filter((line) => line.startsWith('{"record":'))).toHaveLength(header.to);
      const result = await verifyBundleLines(lines, { trustedCheckpoint: kept.note });
      expect(result).toMatchObject({ ok: true, size: header.to, problems: [] });
      // Every stored checkpoint of the range is in the bundle, each right after the record that completes it.
      const stored = await t.services.store.ledger.checkpoints(t.tenantA.id, header.to);
      expect(result.checkpointsVerified).toBe(stored.length);
      expect(lines.join('\n')).not.toContain('secretOfB');
    });

    it('continues from a kept checkpoint: the new bundle holds only later records and proves the log extends the checkpoint', async () => {
      const response = await get(`/api/v1/audit/bundle?format=jsonl&from=${kept.size}`);
      expect(response.status).toBe(200);
      const lines = linesOf(await response.text());
      const header = JSON.parse(lines[0] as string) as { from: number; to: number; frontier: string[] };
      expect(header.from).toBe(kept.size);
      expect(header.frontier.length).toBeGreaterThan(0);
      const records = lines.filter((line) => line.startsWith('{"record":')).map((line) => (JSON.parse(line) as { record: { index: number } }).record.index);
      expect(records[0]).toBe(kept.size);
      expect(records).toHaveLength(header.to - kept.size);
      expect(await verifyBundleLines(lines, { trustedCheckpoint: kept.note })).toMatchObject({ ok: true, from: kept.size, size: header.to });
      // A checkpoint from before the bundle's start cannot be checked from it: never reported as verified.
      const first = (await t.services.store.ledger.checkpoints(t.tenantA.id, kept.size - 1)).at(-1)!;
      const before = await verifyBundleLines(lines, { trustedCheckpoint: first.note });
      expect(before.problems.map((p) => p.code)).toEqual(['TRUSTED_CHECKPOINT_BEFORE_BUNDLE']);
    });

    it('reads the store page by page: any page size gives the same bundle', async () => {
      const collect = async (pageSize?: number) => {
        const bundle = await t.services.ledger.bundleLines(t.tenantA.id, { from: 3, pageSize });
        const lines: string[] = [];
        for await (const line of bundle.lines) lines.push(line);
        return lines;
      };
      const whole = await collect();
      for (const pageSize of [1, 7, 11]) expect(await collect(pageSize)).toEqual(whole);
      expect((await verifyBundleLines(whole)).ok).toBe(true);
    });

    it('answers bad ranges and formats with a 400 and a code', async () => {
      const beyond = await get('/api/v1/audit/bundle?format=jsonl&from=100000');
      expect(beyond.status).toBe(400);
      expect(((await beyond.json()) as { error: { code: string } }).error.code).toBe('LEDGER_RANGE_INVALID');
      const jsonWithFrom = await get('/api/v1/audit/bundle?from=3');
      expect(jsonWithFrom.status).toBe(400);
      expect(((await jsonWithFrom.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
      for (const query of ['format=xml', 'format=jsonl&from=-1', 'format=jsonl&from=abc', 'format=jsonl&from=1e400']) {
        const response = await get(`/api/v1/audit/bundle?${query}`);
        expect(response.status, query).toBe(400);
      }
    });

    it('refuses a one-document bundle larger than its cap with a code, and serves the log as JSON Lines instead', async () => {
      const small = await get('/api/v1/audit/bundle', t.tenantB.adminKey);
      expect(small.status).toBe(200);
      const large = await get('/api/v1/audit/bundle');
      expect(large.status).toBe(422);
      const body = (await large.json()) as { error: { code: string; message: string; details: { size: number; max: number } } };
      expect(body.error.code).toBe('LEDGER_BUNDLE_TOO_LARGE');
      expect(body.error.message).toContain('format=jsonl');
      expect(body.error.details.max).toBe(40);
      expect((await get('/api/v1/audit/bundle?format=jsonl')).status).toBe(200);
    });

    it('counts records per type and agent in one read, as separate counts would', async () => {
      const groups = await t.services.store.ledger.countByTypeAndAgent(t.tenantA.id, {});
      expect(groups).toContainEqual({ type: 'enforce.decision', agentId: 'a', count: 44 });
      for (const group of groups) {
        if (group.agentId === null) continue;
        expect(await t.services.store.ledger.count(t.tenantA.id, { types: [group.type], agentId: group.agentId })).toBe(group.count);
      }
      expect(groups.reduce((sum, group) => sum + group.count, 0)).toBe(await t.services.store.ledger.size(t.tenantA.id));
      expect(await t.services.store.ledger.countByTypeAndAgent('no-such-tenant', {})).toEqual([]);
      // A count bounded only by index and time is computed, not scanned: the same numbers as the records read.
      const ledger = t.services.store.ledger;
      const all = await ledger.records(t.tenantA.id, {}, 10_000);
      const middle = all[Math.floor(all.length / 2)]!;
      for (const filter of [{}, { afterIndex: 5 }, { afterIndex: 5, beforeIndex: 12 }, { beforeIndex: 100_000 }, { fromMs: middle.recordedAt }, { toMs: middle.recordedAt }, { fromMs: Date.now() + 60_000 }]) {
        expect(await ledger.count(t.tenantA.id, filter), JSON.stringify(filter)).toBe((await ledger.records(t.tenantA.id, filter, 10_000)).length);
      }
      expect(await ledger.count('no-such-tenant', {})).toBe(0);
    });

    it('runs at most TOLLGATE_AUDIT_BUNDLE_EXPORTS_PER_TENANT exports of a tenant at once (429 with Retry-After), per tenant', async () => {
      // A log of ~15 MB, more than socket buffers hold: an export whose reader does not read stays open.
      const big = await t.createTenant(`big-${name.toLowerCase()}`);
      for (let start = 0; start < 30_000; start += 5_000) {
        await Promise.all(Array.from({ length: 5_000 }, (_, i) => t.services.ledger.append(big.id, { type: 'bulk.note', data: { i: start + i, text: 'x'.repeat(400) } })));
      }
      const open = await Promise.all([1, 2].map(() => get('/api/v1/audit/bundle?format=jsonl', big.adminKey)));
      expect(open.map((response) => response.status)).toEqual([200, 200]);
      const third = await get('/api/v1/audit/bundle?format=jsonl', big.adminKey);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('5');
      expect(((await third.json()) as { error: { details: { limit: string } } }).error.details.limit).toBe('bundle_exports_per_tenant');
      expect((await get('/api/v1/audit/bundle', big.adminKey)).status).toBe(429);
      // Record exports share the slots (each holds its records in memory until sent): parallel exports by one
      // audit:read key took a server to gigabytes before.
      const refusedExport = await get('/api/v1/audit/export?format=csv', big.adminKey);
      expect(refusedExport.status).toBe(429);
      expect(((await refusedExport.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      // Another tenant's export runs meanwhile.
      const other = await get('/api/v1/audit/bundle?format=jsonl');
      expect(other.status).toBe(200);
      await other.text();
      // A finished export and a dropped one give their slots back.
      expect((await verifyBundleLines(linesOf(await open[0]!.text()))).ok).toBe(true);
      await open[1]!.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await get('/api/v1/audit/bundle?format=jsonl', big.adminKey);
      expect(after.status).toBe(200);
      await after.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 200));
      // An export that finished gives its slot back too.
      for (let i = 0; i < 3; i += 1) {
        const summary = await get('/api/v1/audit/export?format=summary', big.adminKey);
        expect(summary.status).toBe(200);
        expect(((await summary.json()) as { total: number }).total).toBeGreaterThanOrEqual(30_000);
      }
    });

    it('needs audit:read', async () => {
      const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'], name: 'no audit' });
      expect((await get('/api/v1/audit/bundle?format=jsonl', token)).status).toBe(403);
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('streaming ledger bundles');
if (pgUrl) suite('PostgreSQL', pgUrl);
