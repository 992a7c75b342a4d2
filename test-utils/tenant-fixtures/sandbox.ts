import { randomBytes } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** Sandboxed agents, executions, context, credentials and permission requests of the victim (issue 6). */
export const sandboxFixture = defineTenantFixture('sandbox', async ({ server, victim }) => {
  const marker = `victim-sandbox-${randomBytes(6).toString('hex')}`;
  const { agent } = await server.services.sandboxAgents.upsert(victim.id, { name: marker, entry_code: `return ${JSON.stringify(marker + '-output')};` }, null);
  const execution = await server.services.executions.execute(victim.id, agent.id, { note: `${marker}-input` }, null);
  await server.services.sandboxAgents.setContext(victim.id, agent.id, 'ctx', `${marker}-context`);
  const credential = await server.services.credentials.create(victim.id, { name: `${marker}-cred`, value: `${marker}-secret-value` }, null);
  const request = await server.services.permissionRequests.create(victim.id, { agent_id: agent.id, permissions: { allow_network: true }, justification: `${marker}-why` }, null);
  const agentParams = { id: String(agent.id) };
  return {
    params: {
      '/api/v1/sdk/agents/:id': agentParams,
      '/api/v1/sdk/agents/:id/execute': agentParams,
      '/api/v1/sdk/agents/:id/executions': agentParams,
      '/api/v1/sdk/agents/:id/executions/:eid': { id: String(agent.id), eid: String(execution.execution_id) },
      '/api/v1/sdk/agents/:id/context/:key': { id: String(agent.id), key: 'ctx' },
      '/api/v1/sdk/executions/:eid/verify': { eid: String(execution.execution_id) },
      '/api/v1/sdk/credentials/:id': { id: credential.id },
      '/api/v1/sdk/credentials/:id/rotate': { id: credential.id },
      '/api/sdk/permission-requests/:id': { id: String(request.id) },
      '/api/sdk/permission-requests/:id/approve': { id: String(request.id) },
      '/api/sdk/permission-requests/:id/deny': { id: String(request.id) },
    },
    markers: [marker],
    bodies: {
      'PATCH /api/v1/sdk/agents/:id': { entry_code: 'return "attacker";' },
      'PUT /api/v1/sdk/agents/:id/context/:key': { value: 'attacker' },
      'POST /api/v1/sdk/credentials/:id/rotate': { value: 'attacker-value' },
      'POST /api/sdk/permission-requests': { agent_id: agent.id, permissions: { allow_network: true } },
    },
    async verify() {
      const current = await server.services.sandboxAgents.get(victim.id, agent.id);
      if (current.entryCode !== `return ${JSON.stringify(marker + '-output')};`) throw new Error('victim agent code changed');
      if ((await server.services.sandboxAgents.getContext(victim.id, agent.id, 'ctx')) !== `${marker}-context`) throw new Error('victim context changed');
      if ((await server.services.credentials.get(victim.id, credential.id)).status !== 'active') throw new Error('victim credential changed');
      if ((await server.services.permissionRequests.get(victim.id, request.id)).status !== 'pending') throw new Error('victim permission request decided');
      await server.services.executions.require(victim.id, execution.execution_id, agent.id);
    },
  };
});
