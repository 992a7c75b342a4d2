import { randomBytes } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** Ledger records of the victim (the audit routes: records, verify, export, bundle, proofs, stream). */
export const ledgerFixture = defineTenantFixture('ledger', async ({ server, victim }) => {
  const marker = `victim-audit-${randomBytes(6).toString('hex')}`;
  const appended = await server.services.ledger.append(victim.id, { type: 'fixture.secret', agentId: marker, isViolation: true, data: { marker } });
  await server.services.ledger.checkpoint(victim.id);
  return {
    params: { '/api/v1/audit/records/:id/verify': { id: String(appended.index) } },
    markers: [marker],
    async verify() {
      const res = await server.request('GET', `/api/v1/audit/records/${appended.index}/verify`, { key: victim.adminKey });
      if (res.status !== 200 || res.body.verified !== true) throw new Error(`victim ledger record no longer verifies: ${JSON.stringify(res.body)}`);
      const records = await server.request('GET', `/api/v1/audit/records?agentId=${marker}`, { key: victim.adminKey });
      if (records.body.events?.[0]?.data?.marker !== marker) throw new Error(`victim ledger record changed: ${JSON.stringify(records.body)}`);
    },
  };
});
