// The dashboard's "show in the audit trail" link of a violation: the ledger record that logged it, found by reading
// the ledger in pages over an index range (not by a time filter that would read the tenant's whole log).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

function suite(name: string, postgresUrl: string | undefined) {
  describe(`violation → ledger record on ${name}`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer({ postgresUrl });
    });
    afterAll(async () => {
      await t?.close();
    });

    const block = async (n: number) => {
      // No policy: every call is a violation (BLOCK, "no policy").
      const res = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot', sessionId: `s-${n}`, toolName: 'send_email', arguments: { n } } });
      expect(res.body.decision).toBe('BLOCK');
      return res.body.violationId as string;
    };
    const lookup = (id: string, key = t.tenantA.adminKey) => t.request('GET', `/api/v1/dashboard/violations/${encodeURIComponent(id)}/ledger`, { key });

    it("finds each violation's own record, also behind more than a page of other records", async () => {
      const first = await block(1);
      // 2,500 other records in the same seconds: the second violation's record lies past the first pages.
      await Promise.all(Array.from({ length: 2_500 }, (_, i) => t.services.ledger.append(t.tenantA.id, { type: 'bulk.note', data: { i } })));
      const second = await block(2);
      await t.services.ledger.flush();
      for (const id of [first, second]) {
        const res = await lookup(id);
        expect(res.status).toBe(200);
        const record = await t.services.store.ledger.record(t.tenantA.id, res.body.index);
        expect(record?.body).toContain(`"${id}"`);
      }
    });

    it('answers 404 for an unknown violation and for another tenant\'s', async () => {
      const id = await block(3);
      await t.services.ledger.flush();
      expect((await lookup('vio_unknown')).status).toBe(404);
      expect((await lookup(id, t.tenantB.adminKey)).status).toBe(404);
    });
  });
}

suite('SQLite', undefined);
const pgUrl = postgresTestUrl('violation ledger lookup');
if (pgUrl) suite('PostgreSQL', pgUrl);
