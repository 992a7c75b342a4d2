// Per-tenant data retention: the operator sets a tenant's own period over HTTP (PATCH /api/v1/tenants/{id}); a
// tenant's own admin cannot (a shorter period deletes evidence), bad values are refused with the field named, the
// change is in the tenant's ledger, and the next retention pass applies it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '@tollgate/server';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('per-tenant retention over HTTP', () => {
  let t: TestServer;
  const clock = manualClock(Date.parse('2026-08-01T09:00:00Z'));
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the operator sets, shows and clears a tenant\'s own period; it is recorded in that tenant\'s ledger', async () => {
    const set = await t.request('PATCH', `/api/v1/tenants/${t.tenantA.id}`, { key: t.systemAdminKey, body: { retentionDays: 30 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ id: t.tenantA.id, retentionDays: 30 });
    expect((await t.request('GET', `/api/v1/tenants/${t.tenantA.id}`, { key: t.tenantA.adminKey })).body.retentionDays).toBe(30);
    expect((await t.request('GET', `/api/v1/tenants/${t.tenantB.id}`, { key: t.tenantB.adminKey })).body.retentionDays).toBeNull();
    const cleared = await t.request('PATCH', `/api/v1/tenants/${t.tenantA.id}`, { key: t.systemAdminKey, body: { retentionDays: null } });
    expect(cleared.body.retentionDays).toBeNull();
    await t.services.ledger.flush();
    const records = await t.request('GET', '/api/v1/audit/records?limit=1000', { key: t.tenantA.adminKey });
    const changes = records.body.events.filter((event: { type: string }) => event.type === 'tenant.retention_changed');
    expect(changes.map((event: { data?: unknown; body?: unknown }) => event.data ?? event.body)).toEqual([
      expect.objectContaining({ from: null, to: 30 }), expect.objectContaining({ from: 30, to: null }),
    ]);
  });

  it('a tenant\'s own admin key cannot set it, for its own tenant or another', async () => {
    for (const id of [t.tenantA.id, t.tenantB.id]) {
      const res = await t.request('PATCH', `/api/v1/tenants/${id}`, { key: t.tenantA.adminKey, body: { retentionDays: 1 } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect((await t.request('GET', `/api/v1/tenants/${t.tenantB.id}`, { key: t.tenantB.adminKey })).body.retentionDays).toBeNull();
  });

  it('refuses bad values naming the field, and an unknown tenant with 404', async () => {
    for (const body of [{ retentionDays: -1 }, { retentionDays: 1.5 }, { retentionDays: '30' }, { retentionDays: 36_501 }, {}, { retentionDays: 3, extra: 1 }]) {
      const res = await t.request('PATCH', `/api/v1/tenants/${t.tenantA.id}`, { key: t.systemAdminKey, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    const missing = await t.request('PATCH', '/api/v1/tenants/no-such-tenant', { key: t.systemAdminKey, body: { retentionDays: 3 } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });
});
