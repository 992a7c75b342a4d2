import { randomBytes } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** Tenants and API keys of the victim. */
export const foundationFixture = defineTenantFixture(
  'foundation',
  async ({ server, victim }) => {
    const marker = `victim-key-${randomBytes(6).toString('hex')}`;
    const { record } = await server.services.keys.create({ tenantId: victim.id, scopes: ['enforce', 'audit:read'], name: marker });
    return {
      params: {
        '/api/v1/keys/:id': { id: record.id },
        '/api/v1/keys/:id/revoke': { id: record.id },
        '/api/v1/tenants/:id': { id: victim.id },
      },
      markers: [marker],
      bodies: { 'PATCH /api/v1/keys/:id': { expiresAt: new Date(Date.now() + 60_000).toISOString() } },
      async verify() {
        const res = await server.request('GET', `/api/v1/keys/${record.id}`, { key: victim.adminKey });
        if (res.status !== 200 || res.body.key.status !== 'active' || res.body.key.expiresAt !== null || res.body.key.name !== marker) {
          throw new Error(`victim key changed: ${JSON.stringify(res.body)}`);
        }
        const tenant = await server.request('GET', `/api/v1/tenants/${victim.id}`, { key: victim.adminKey });
        if (tenant.status !== 200 || tenant.body.id !== victim.id) throw new Error(`victim tenant changed: ${JSON.stringify(tenant.body)}`);
      },
    };
  },
  { '/docs/static/*': 'swagger-ui static assets (public, no tenant data)' },
);
