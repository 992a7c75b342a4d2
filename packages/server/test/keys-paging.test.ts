// GET /api/v1/keys pages (keys bound to agents can number thousands per tenant): newest first, `limit`, an opaque
// `cursor`, every key exactly once across pages even when many share a creation millisecond.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../src/services/clock.js';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

function describeKeyPaging(name: string, postgresUrl: string | undefined) {
  describe.skipIf(postgresUrl === '')(name, () => {
    let t: TestServer;
    const clock = manualClock(Date.parse('2026-05-01T00:00:00Z'));
    beforeAll(async () => {
      t = await startTestServer({ clock, ...(postgresUrl ? { postgresUrl } : {}) });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('lists every key exactly once across pages, newest first, ties on one millisecond included', async () => {
      const tenant = await t.createTenant(`paging-${Math.random().toString(36).slice(2, 8)}`);
      const created: string[] = [];
      for (let i = 0; i < 23; i += 1) {
        // Three keys per millisecond: the cursor must order ties by id, not lose or repeat them.
        if (i % 3 === 0) clock.advance(1);
        created.push((await t.services.keys.create({ tenantId: tenant.id, scopes: ['enforce'], name: `k${i}` })).record.id);
      }
      const whole = await t.request('GET', '/api/v1/keys', { key: tenant.adminKey });
      expect(whole.status).toBe(200);
      expect(whole.body.nextCursor).toBeNull();
      const total = whole.body.keys.length as number;
      expect(total).toBe(24); // the tenant's admin key too
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await t.request('GET', `/api/v1/keys?limit=5${cursor ? `&cursor=${cursor}` : ''}`, { key: tenant.adminKey });
        expect(res.status).toBe(200);
        expect(res.body.keys.length).toBeLessThanOrEqual(5);
        seen.push(...res.body.keys.map((key: { id: string }) => key.id));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 20);
      expect(pages).toBe(5);
      expect(seen).toEqual(whole.body.keys.map((key: { id: string }) => key.id));
      expect(new Set(seen).size).toBe(total);
      for (const id of created) expect(seen).toContain(id);
      const createdAt = whole.body.keys.map((key: { createdAt: string }) => Date.parse(key.createdAt));
      expect([...createdAt].sort((a, b) => b - a)).toEqual(createdAt);
    });

    it('refuses malformed cursors and limits with 400, and a cursor never reaches another tenant', async () => {
      const key = t.tenantA.adminKey;
      const forged = Buffer.from("1.x' OR 1=1 --", 'utf8').toString('base64url');
      for (const query of ['limit=0', 'limit=1001', 'limit=x', 'cursor=', `cursor=${forged}`, 'cursor=%00', `cursor=${'A'.repeat(201)}`, 'page=2']) {
        const res = await t.request('GET', `/api/v1/keys?${query}`, { key });
        expect(res.status, query).toBe(400);
        expect(res.body.error.code, query).toBe('VALIDATION_FAILED');
      }
      const first = await t.request('GET', '/api/v1/keys?limit=1', { key: t.tenantB.adminKey });
      const fromB = first.body.nextCursor ?? Buffer.from(`${Date.now()}.zzzz`, 'utf8').toString('base64url');
      const res = await t.request('GET', `/api/v1/keys?cursor=${fromB}`, { key });
      expect(res.status).toBe(200);
      for (const listed of res.body.keys) expect(listed.tenantId).toBe(t.tenantA.id);
    });
  });
}

describeKeyPaging('API key paging (SQLite)', undefined);
describeKeyPaging('API key paging (PostgreSQL)', postgresTestUrl('API key paging on PostgreSQL') ?? '');
