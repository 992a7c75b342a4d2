import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessBus, manualClock, openSqliteStore, SQLITE_FILE_NAME } from '../src/index.js';
import { KeyService } from '../src/services/keys/index.js';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('API keys and tenants over HTTP', () => {
  const clock = manualClock(Date.parse('2026-06-01T00:00:00Z'));
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  const createKey = (key: string, body: unknown) => t.request('POST', '/api/v1/keys', { key, body });

  it('shows the secret once, stores only its hash, and the new key works', async () => {
    const created = await createKey(t.tenantA.adminKey, { scopes: ['enforce', 'audit:read'], name: 'ci' });
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^tg_live_[a-z0-9]+_[A-Za-z0-9]+$/);
    expect(created.body.key).toMatchObject({ tenantId: t.tenantA.id, scopes: ['enforce', 'audit:read'], status: 'active', name: 'ci' });
    const listed = await t.request('GET', '/api/v1/keys', { key: t.tenantA.adminKey });
    expect(JSON.stringify(listed.body)).not.toContain(secret.split('_')[3]);
    expect(JSON.stringify(listed.body)).not.toContain('secretHash');
    const row = await t.store.db.selectFrom('api_keys').selectAll().where('id', '=', created.body.key.id).executeTakeFirstOrThrow();
    expect(row.secret_hash).not.toContain(secret.split('_')[3]);
    const whoami = await t.request('GET', '/api/v1/auth/whoami', { key: secret });
    expect(whoami.body).toEqual({ tenantId: t.tenantA.id, keyId: created.body.key.id, scopes: ['enforce', 'audit:read'] });
  });

  it('refuses a right id with a wrong secret', async () => {
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['enforce'] });
    const forged = `tg_live_${body.key.id}_${'0'.repeat(64)}`;
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: forged })).status).toBe(401);
  });

  it('once the real secret was accepted (and remembered), near misses of it are still refused', async () => {
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['enforce'] });
    const token: string = body.secret;
    const secret = token.slice(token.lastIndexOf('_') + 1);
    const prefix = token.slice(0, token.lastIndexOf('_') + 1);
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: token })).status).toBe(200);
    const flip = (c: string) => (c === 'a' ? 'b' : 'a');
    const nearMisses = [
      secret.slice(0, -1) + flip(secret.at(-1)!), // last character differs
      flip(secret[0]!) + secret.slice(1), // first character differs
      secret.slice(0, -1), // one character short
      `${secret}a`, // one character long
      secret.toUpperCase() === secret ? secret.toLowerCase() : secret.toUpperCase(), // case differs
      secret.slice(0, 32), // the shortest secret the format allows, a prefix of the real one
    ].filter((candidate) => candidate !== secret);
    for (const candidate of nearMisses) {
      const response = await t.request('GET', '/api/v1/auth/whoami', { key: `${prefix}${candidate}` });
      expect(response.status, candidate).toBe(401);
    }
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: `${token}_x` })).status).toBe(401);
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: token })).status).toBe(200);
  });

  it('revocation takes effect on the very next request (the verified-key cache is evicted)', async () => {
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['enforce'] });
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: body.secret })).status).toBe(200);
    const revoked = await t.request('POST', `/api/v1/keys/${body.key.id}/revoke`, { key: t.tenantA.adminKey });
    expect(revoked.body.key.status).toBe('revoked');
    const after = await t.request('GET', '/api/v1/auth/whoami', { key: body.secret });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toBe('API key revoked');
  });

  it('a revocation written by another process (CLI on the same SQLite file) is honoured within milliseconds', async () => {
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['enforce'] });
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: body.secret })).status).toBe(200);
    const other = openSqliteStore({ filename: join(t.config.dataDir, SQLITE_FILE_NAME) });
    const bus = createInProcessBus();
    const keys = new KeyService({ store: other, clock, bus, cacheTtlMs: 0 });
    await keys.revoke(t.tenantA.id, body.key.id);
    keys.close();
    await other.close();
    await expect.poll(async () => (await t.request('GET', '/api/v1/auth/whoami', { key: body.secret })).status, { timeout: 1_000, interval: 5 }).toBe(401);
  });

  it('expiry: set at creation, changed and cleared later, enforced by the clock', async () => {
    const expiresAt = new Date(clock.now() + 60_000).toISOString();
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['enforce'], expiresAt });
    expect(body.key.expiresAt).toBe(expiresAt);
    clock.advance(61_000);
    const expired = await t.request('GET', '/api/v1/auth/whoami', { key: body.secret });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe('API key expired');
    const extended = await t.request('PATCH', `/api/v1/keys/${body.key.id}`, { key: t.tenantA.adminKey, body: { expiresAt: new Date(clock.now() + 60_000).toISOString() } });
    expect(extended.body.key.status).toBe('active');
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: body.secret })).status).toBe(200);
    const cleared = await t.request('PATCH', `/api/v1/keys/${body.key.id}`, { key: t.tenantA.adminKey, body: { expiresAt: null } });
    expect(cleared.body.key.expiresAt).toBeNull();
    const past = await createKey(t.tenantA.adminKey, { scopes: ['enforce'], expiresAt: new Date(clock.now() - 1).toISOString() });
    expect(past.status).toBe(400);
  });

  it('refuses unknown scopes, empty scopes and non-admin callers', async () => {
    expect((await createKey(t.tenantA.adminKey, { scopes: ['root'] })).status).toBe(400);
    expect((await createKey(t.tenantA.adminKey, { scopes: [] })).status).toBe(400);
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['policies'] });
    const res = await createKey(body.secret, { scopes: ['admin'] });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('only the operator tenant creates tenants and keys for other tenants', async () => {
    const denied = await t.request('POST', '/api/v1/tenants', { key: t.tenantA.adminKey, body: { id: 'sneaky' } });
    expect(denied.status).toBe(403);
    const mismatch = await createKey(t.tenantA.adminKey, { scopes: ['enforce'], tenantId: t.tenantB.id });
    expect(mismatch.status).toBe(403);
    expect(mismatch.body.error.code).toBe('TENANT_MISMATCH');
    const created = await t.request('POST', '/api/v1/tenants', { key: t.systemAdminKey, body: { id: 'acme', name: 'Acme' } });
    expect(created.status).toBe(201);
    expect((await t.request('POST', '/api/v1/tenants', { key: t.systemAdminKey, body: { id: 'acme' } })).status).toBe(409);
    const key = await createKey(t.systemAdminKey, { scopes: ['admin'], tenantId: 'acme' });
    expect(key.body.key.tenantId).toBe('acme');
    const seen = await t.request('GET', '/api/v1/tenants', { key: key.body.secret });
    expect(seen.body.tenants.map((tenant: { id: string }) => tenant.id)).toEqual(['acme']);
    const all = await t.request('GET', '/api/v1/tenants', { key: t.systemAdminKey });
    expect(all.body.tenants.map((tenant: { id: string }) => tenant.id)).toEqual(expect.arrayContaining(['acme', 'default', 'tenant-a', 'tenant-b']));
  });

  it('appends every key change to the tenant ledger (never the secret)', async () => {
    const { body } = await createKey(t.tenantA.adminKey, { scopes: ['audit:read'], name: 'ledgered' });
    await t.request('PATCH', `/api/v1/keys/${body.key.id}`, { key: t.tenantA.adminKey, body: { expiresAt: new Date(clock.now() + 3_600_000).toISOString() } });
    await t.request('POST', `/api/v1/keys/${body.key.id}/revoke`, { key: t.tenantA.adminKey });
    await t.services.ledger.flush();
    const records = await t.store.ledger.records(t.tenantA.id, { types: ['api_key.created', 'api_key.expiry_set', 'api_key.revoked'] }, 1_000);
    const mine = records.filter((record) => JSON.stringify(record).includes(body.key.id));
    expect(mine.map((record) => (JSON.parse(record.body) as { type: string }).type)).toEqual(['api_key.created', 'api_key.expiry_set', 'api_key.revoked']);
    expect(JSON.stringify(mine)).not.toContain(body.secret.split('_')[3]);
  });

  it('lists only the caller tenant’s keys', async () => {
    const a = await t.request('GET', '/api/v1/keys', { key: t.tenantA.adminKey });
    expect(a.body.keys.length).toBeGreaterThan(0);
    expect(a.body.keys.every((key: { tenantId: string }) => key.tenantId === t.tenantA.id)).toBe(true);
    const spy = await t.request('GET', `/api/v1/keys?tenantId=${t.tenantB.id}`, { key: t.tenantA.adminKey });
    expect(spy.status).toBe(403);
  });
});

const pgUrl = postgresTestUrl('API key revocation across replicas');
describe.skipIf(!pgUrl)('two replicas on one PostgreSQL', () => {
  it('a key revoked on one replica is refused by the other at once (LISTEN/NOTIFY)', async () => {
    const first = await startTestServer({ postgresUrl: pgUrl });
    try {
      const { startTollgate, loadConfig } = await import('../src/index.js');
      const second = await startTollgate({ config: loadConfig({}, { ...first.config, port: 0 }) });
      try {
        const { token, record } = await first.services.keys.create({ tenantId: first.tenantA.id, scopes: ['enforce'] });
        const ask = (url: string) => fetch(`${url}/api/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
        expect((await ask(second.url)).status).toBe(200); // now cached on the second replica
        await first.request('POST', `/api/v1/keys/${record.id}/revoke`, { key: first.tenantA.adminKey });
        await expect.poll(async () => (await ask(second.url)).status, { timeout: 2_000, interval: 20 }).toBe(401);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});
