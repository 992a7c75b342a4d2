import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Regression: the one-document bundle (`GET /api/v1/audit/bundle`) gave its export slot back as soon as the bundle
// object was built, before the answer was serialised and sent, so slow readers could each hold a whole bundle in
// memory (8 parallel readers took a server from 0.7 to 2.8 GB while the per-tenant limit was 2).

/** Opens a request and stops reading its answer once the status line is in (a slow reader). */
function openUnread(url: string, key: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(`${url}/api/v1/audit/bundle`, { headers: { authorization: `Bearer ${key}` } }, (response) => {
      response.pause();
      resolve(response);
    });
    sent.on('error', reject);
    sent.end();
  });
}

function suite(name: string, postgresUrl: string | undefined) {
  describe(`one-document audit bundle on ${name}: the export slot is held until the answer is sent`, () => {
    let t: TestServer;
    beforeAll(async () => {
      // The default per-tenant limit (2), and a log of ~16 MB: more than socket buffers hold, so an unread answer stays open.
      t = await startTestServer({ postgresUrl });
      for (let start = 0; start < 2_000; start += 500) {
        await Promise.all(Array.from({ length: 500 }, (_, i) => t.services.ledger.append(t.tenantA.id, { type: 'bulk.note', data: { i: start + i, text: 'x'.repeat(8_000) } })));
      }
    }, 120_000);
    afterAll(async () => {
      await t?.close();
    });

    it('refuses a third bundle while two answers are unread, and serves again once they are dropped', async () => {
      expect(t.services.config.auditBundleExportsPerTenant).toBe(2);
      const open = [await openUnread(t.url, t.tenantA.adminKey), await openUnread(t.url, t.tenantA.adminKey)];
      expect(open.map((response) => response.statusCode)).toEqual([200, 200]);
      const third = await fetch(`${t.url}/api/v1/audit/bundle`, { headers: { authorization: `Bearer ${t.tenantA.adminKey}` } });
      expect(third.status).toBe(429);
      const body = (await third.json()) as { error: { code: string; details: { limit: string } } };
      expect(body.error.code).toBe('RATE_LIMITED');
      expect(body.error.details.limit).toBe('bundle_exports_per_tenant');

      for (const response of open) response.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await fetch(`${t.url}/api/v1/audit/bundle`, { headers: { authorization: `Bearer ${t.tenantA.adminKey}` } });
      expect(after.status).toBe(200);
      expect(((await after.json()) as { records: unknown[] }).records.length).toBeGreaterThanOrEqual(2_000);
    }, 60_000);

    it('gives the slot back when building the bundle fails', async () => {
      const small = await startTestServer({ postgresUrl, config: { auditBundleJsonMaxRecords: 1 } });
      try {
        for (let i = 0; i < 3; i += 1) {
          const refused = await small.request('GET', '/api/v1/audit/bundle', { key: small.tenantA.adminKey });
          expect(refused.status).toBe(422);
          expect(refused.body.error.code).toBe('LEDGER_BUNDLE_TOO_LARGE');
        }
      } finally {
        await small.close();
      }
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('audit bundle slow readers');
if (pgUrl) suite('PostgreSQL', pgUrl);
