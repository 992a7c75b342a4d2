import { randomBytes } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** Policies, decisions, a pending step-up hold and a halted agent of the victim (issue 3). */
export const enforcementFixture = defineTenantFixture('enforcement', async ({ server, victim }) => {
  const marker = `victim-enforcement-${randomBytes(6).toString('hex')}`;
  const source = `name: ${marker}\nagents: { "*": { approvedScope: ["*"] } }\nrules:\n  - { id: big, match: { tools: [pay] }, when: "args.amount > 10", effect: STEP_UP, reason: ${marker}-reason }\n`;
  const policy = await server.services.policies.create(victim.id, { name: marker, source }, null);
  await server.services.policies.activate(victim.id, policy.id, 1, null);
  const decision = await server.services.enforcement.enforce(victim.id, { agentId: 'victim-agent', sessionId: `${marker}-session`, toolName: 'pay', arguments: { amount: 50, memo: `${marker}-memo` } });
  if (!decision.holdToken) throw new Error('fixture expected a STEP_UP hold');
  const holdToken = decision.holdToken;
  await server.services.killSwitch.killAgent(victim.id, 'victim-halted-agent', `${marker}-kill`, null);
  const policyParams = { id: policy.id };
  return {
    params: {
      '/v1/enforce/hold/:token': { token: holdToken },
      '/api/v1/approvals/:id/approve': { id: holdToken },
      '/api/v1/approvals/:id/deny': { id: holdToken },
      '/api/sdk/agents/:agentId/kill': { agentId: 'victim-agent' },
      '/api/sdk/agents/:agentId/unkill': { agentId: 'victim-halted-agent' },
      '/api/v1/policies/:id': policyParams,
      '/api/v1/policies/:id/versions': policyParams,
      '/api/v1/policies/:id/versions/:version': { id: policy.id, version: '1' },
      '/api/v1/policies/:id/diff': policyParams,
      '/api/v1/policies/:id/activate': policyParams,
      '/api/v1/policies/:id/simulate': policyParams,
    },
    markers: [marker],
    bodies: {
      'POST /api/v1/policies/:id/versions': { source: 'rules: []\n' },
      'POST /api/v1/policies/:id/simulate': { source: 'rules: []\n' },
    },
    async verify() {
      const hold = await server.services.holds.get(victim.id, holdToken);
      if (hold.status !== 'pending') throw new Error('victim hold was decided');
      const versions = await server.services.policies.versions(victim.id, policy.id);
      if (versions.length !== 1) throw new Error('victim policy got a new version');
      const active = await server.services.policies.activePolicy(victim.id);
      if (active?.policyId !== policy.id) throw new Error('victim active policy changed');
      if (server.services.killSwitch.haltReason(victim.id, 'victim-halted-agent') === null) throw new Error('victim agent was revived');
      if (server.services.killSwitch.haltReason(victim.id, 'victim-agent') !== null) throw new Error('victim agent was halted');
    },
  };
});
