import { randomBytes, randomUUID } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** Behavioural events of the victim: the attacker's GET /api/v1/events must never show them. */
export const eventsFixture = defineTenantFixture('events', async ({ server, victim }) => {
  const marker = `victim-event-${randomBytes(6).toString('hex')}`;
  const eventId = randomUUID();
  await server.services.events.ingest(victim.id, [
    {
      eventId, eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'victim-agent', userId: 'victim-user', sessionId: 'victim-session',
      toolName: 'read_file', callId: randomUUID(), timestamp: new Date().toISOString(), redaction: 'full', arguments: { note: marker },
    },
  ]);
  return {
    params: {},
    markers: [marker],
    async verify() {
      const stored = await server.services.events.list(victim.id, { sessionId: 'victim-session' });
      if (stored.events.length !== 1 || stored.events[0]?.eventId !== eventId) throw new Error(`victim events changed: ${JSON.stringify(stored.events)}`);
    },
  };
});
