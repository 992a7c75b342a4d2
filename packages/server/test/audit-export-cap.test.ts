import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// One audit:read key must not be able to make the server hold an unbounded export in memory: besides its
// 100,000-record cap, an export stops after TOLLGATE_AUDIT_EXPORT_MAX_BYTES of stored records and says so.
describe('audit export byte cap', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ config: { auditExportMaxBytes: 20_000 } });
    for (let i = 0; i < 12; i += 1) {
      await t.services.ledger.append(t.tenantA.id, { type: 'bulk.note', data: { n: i, text: 'x'.repeat(4_000) } });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stops at the cap in every format and says truncated, keeping whole records in order', async () => {
    const json = await t.request('GET', '/api/v1/audit/export?format=json&actionTypes=bulk.note', { key: t.tenantA.adminKey });
    expect(json.status).toBe(200);
    expect(json.headers.get('x-tollgate-truncated')).toBe('true');
    expect(json.body.truncated).toBe(true);
    const ns = json.body.events.map((e: { data: { n: number } }) => e.data.n);
    expect(ns.length).toBeGreaterThan(0);
    expect(ns.length).toBeLessThan(12);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i));
    const csv = await t.request('GET', '/api/v1/audit/export?format=csv&actionTypes=bulk.note', { key: t.tenantA.adminKey });
    expect(csv.headers.get('x-tollgate-truncated')).toBe('true');
    const summary = await t.request('GET', '/api/v1/audit/export?format=summary&actionTypes=bulk.note', { key: t.tenantA.adminKey });
    expect(summary.body.truncated).toBe(true);
  });

  it('a filter that stays under the cap is complete and says so', async () => {
    const few = await t.request('GET', '/api/v1/audit/export?format=json&actionTypes=api_key.created', { key: t.tenantA.adminKey });
    expect(few.headers.get('x-tollgate-truncated')).toBe('false');
    expect(few.body.truncated).toBe(false);
  });
});
