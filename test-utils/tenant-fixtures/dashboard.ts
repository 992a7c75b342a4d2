import { randomBytes } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** Recorded tool calls and a violation of the victim, as the dashboard views show them (issue 8). */
export const dashboardFixture = defineTenantFixture('dashboard', async ({ server, victim }) => {
  const marker = `victim-dashboard-${randomBytes(6).toString('hex')}`;
  const agentId = `${marker}-agent`;
  const now = Date.now();
  const base = { tenantId: victim.id, sourceType: 'SDK', agentId, userId: `${marker}@example.com`, sessionId: `${marker}-session`, toolName: 'send_email', callId: `${marker}-call`, decisionId: null, receivedAt: now, redaction: 'full', error: null };
  await server.store.events.insertMany(victim.id, [
    { ...base, eventId: `${marker}-pre`, eventType: 'TOOL_CALL_PRE', ts: now - 10, durationMs: null, outcome: null, arguments: { to: `${marker}@x.example` }, result: undefined },
    { ...base, eventId: `${marker}-post`, eventType: 'TOOL_CALL_POST', ts: now, durationMs: 10, outcome: 'success', arguments: undefined, result: 'ok' },
  ]);
  // A halted agent is blocked whatever the policy says: a violation with a ledger record.
  await server.services.killSwitch.killAgent(victim.id, agentId, `${marker}-kill`, null);
  const decision = await server.services.enforcement.enforce(victim.id, { agentId, sessionId: `${marker}-session`, toolName: 'delete_file', arguments: { path: `${marker}-path` } });
  if (!decision.violationId) throw new Error('dashboard fixture expected a violation');
  await server.services.killSwitch.reviveAgent(victim.id, agentId, null, null);
  return {
    params: { '/api/v1/dashboard/violations/:id/ledger': { id: decision.violationId } },
    markers: [marker],
  };
}, {
  '/sessions/*': 'dashboard client route: answers index.html, no tenant data',
  '/violations/*': 'dashboard client route: answers index.html, no tenant data',
  '/approvals/*': 'dashboard client route: answers index.html, no tenant data',
  '/policies/*': 'dashboard client route: answers index.html, no tenant data',
  '/agents/*': 'dashboard client route: answers index.html, no tenant data',
  '/audit/*': 'dashboard client route: answers index.html, no tenant data',
  '/kill-switch/*': 'dashboard client route: answers index.html, no tenant data',
  '/settings/*': 'dashboard client route: answers index.html, no tenant data',
  '/overview/*': 'dashboard client route: answers index.html, no tenant data',
  '/sign-in/*': 'dashboard client route: answers index.html, no tenant data',
});
