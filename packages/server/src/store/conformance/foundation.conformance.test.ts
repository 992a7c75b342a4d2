import { expect, it } from 'vitest';
import { describeStoreConformance } from '../../../../../test-utils/index.js';
import { MIGRATIONS, migrateStore, type ApiKeyRecord } from '../index.js';

function key(overrides: Partial<ApiKeyRecord> & { id: string; tenantId: string }): ApiKeyRecord {
  return { name: 'k', secretHash: 'ab'.repeat(32), scopes: ['enforce'], createdAt: 1_000, expiresAt: null, revokedAt: null, createdBy: null, agentIds: null, ...overrides };
}

describeStoreConformance('foundation', (getStore) => {
  it('migrations are recorded and re-running them applies nothing', async () => {
    const result = await migrateStore(getStore());
    expect(result.applied).toEqual([]);
    expect(result.current).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
  });

  it('tenants: create, get, list in id order, duplicate id refused', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'zeta', name: 'Zeta', createdAt: 1_700_000_000_123 });
    await store.tenants.create({ id: 'alpha', name: 'Alpha', createdAt: 2 });
    expect(await store.tenants.get('zeta')).toEqual({ id: 'zeta', name: 'Zeta', createdAt: 1_700_000_000_123, retentionDays: null });
    expect(await store.tenants.get('missing')).toBeUndefined();
    const ids = (await store.tenants.list()).map((t) => t.id);
    expect(ids.indexOf('alpha')).toBeLessThan(ids.indexOf('zeta'));
    await expect(store.tenants.create({ id: 'alpha', name: 'again', createdAt: 3 })).rejects.toThrow();
  });

  it('api keys: round-trip every field, list newest first, scoped by tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'k-one', name: 'one', createdAt: 1 });
    await store.tenants.create({ id: 'k-two', name: 'two', createdAt: 1 });
    const full = key({ id: 'aaaa0001', tenantId: 'k-one', scopes: ['admin', 'audit:read'], createdAt: 5_000, expiresAt: 9_999_999_999_999, createdBy: 'creator1' });
    await store.apiKeys.create(full);
    await store.apiKeys.create(key({ id: 'aaaa0002', tenantId: 'k-one', createdAt: 6_000 }));
    await store.apiKeys.create(key({ id: 'bbbb0001', tenantId: 'k-two' }));
    expect(await store.apiKeys.get('k-one', 'aaaa0001')).toEqual(full);
    expect(await store.apiKeys.findForAuthentication('bbbb0001')).toMatchObject({ tenantId: 'k-two' });
    expect((await store.apiKeys.list('k-one')).map((k) => k.id)).toEqual(['aaaa0002', 'aaaa0001']);
    expect(await store.apiKeys.get('k-two', 'aaaa0001')).toBeUndefined();
  });

  it('api keys: an agent restriction round-trips exactly (order, case, unicode); unset stays null', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'a-one', name: 'one', createdAt: 1 });
    const agentIds = ['support-bot', 'Support-Bot', 'r\u00e9sum\u00e9-agent', 'a b'];
    await store.apiKeys.create(key({ id: 'ffff0001', tenantId: 'a-one', agentIds }));
    await store.apiKeys.create(key({ id: 'ffff0002', tenantId: 'a-one' }));
    expect((await store.apiKeys.get('a-one', 'ffff0001'))?.agentIds).toEqual(agentIds);
    expect((await store.apiKeys.findForAuthentication('ffff0001'))?.agentIds).toEqual(agentIds);
    expect((await store.apiKeys.revoke('a-one', 'ffff0001', 5))?.agentIds).toEqual(agentIds);
    expect((await store.apiKeys.get('a-one', 'ffff0002'))?.agentIds).toBeNull();
    expect((await store.apiKeys.list('a-one')).map((k) => k.agentIds)).toContainEqual(agentIds);
  });

  it('api keys: revoke and expiry only touch the owning tenant; revoke keeps the first time', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'r-one', name: 'one', createdAt: 1 });
    await store.apiKeys.create(key({ id: 'cccc0001', tenantId: 'r-one' }));
    expect(await store.apiKeys.revoke('k-two', 'cccc0001', 50)).toBeUndefined();
    expect(await store.apiKeys.setExpiry('k-two', 'cccc0001', 60)).toBeUndefined();
    expect((await store.apiKeys.get('r-one', 'cccc0001'))?.revokedAt).toBeNull();
    expect((await store.apiKeys.revoke('r-one', 'cccc0001', 70))?.revokedAt).toBe(70);
    expect((await store.apiKeys.revoke('r-one', 'cccc0001', 80))?.revokedAt).toBe(70);
    expect((await store.apiKeys.setExpiry('r-one', 'cccc0001', 90))?.expiresAt).toBe(90);
    expect((await store.apiKeys.setExpiry('r-one', 'cccc0001', null))?.expiresAt).toBeNull();
  });

  it('refuses an API key of an unknown tenant (foreign key)', async () => {
    await expect(getStore().apiKeys.create(key({ id: 'dddd0001', tenantId: 'nobody' }))).rejects.toThrow();
  });

  it('transactions commit together or roll back together', async () => {
    const store = getStore();
    await store.transaction(async (tx) => {
      await tx.tenants.create({ id: 'tx-ok', name: 'ok', createdAt: 1 });
      await tx.apiKeys.create(key({ id: 'eeee0001', tenantId: 'tx-ok' }));
    });
    expect(await store.apiKeys.get('tx-ok', 'eeee0001')).toBeDefined();
    await expect(
      store.transaction(async (tx) => {
        await tx.tenants.create({ id: 'tx-bad', name: 'bad', createdAt: 1 });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.tenants.get('tx-bad')).toBeUndefined();
  });

  it('ping answers while open', async () => {
    await expect(getStore().ping()).resolves.toBeUndefined();
  });
});
