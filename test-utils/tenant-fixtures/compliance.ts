import { randomBytes } from 'node:crypto';
import { defineTenantFixture } from './types.js';

/** A victim agent with all three compliance frameworks configured and evaluated. */
export const complianceFixture = defineTenantFixture('compliance', async ({ server, victim }) => {
  const marker = `victim-compliance-${randomBytes(6).toString('hex')}`;
  const { agent } = await server.services.sandboxAgents.upsert(victim.id, { name: marker, config: { sandbox_template: 'STRICT', compliance: ['eu_ai_act', 'soc2', 'nist_ai_rmf'] } }, null);
  const evaluated = await server.services.compliance.evaluate(victim.id, agent.id, null);
  const countEvaluations = () => server.store.ledger.count(victim.id, { types: ['compliance.evaluated'], agentId: String(agent.id) });
  const evaluations = await countEvaluations();
  const id = String(agent.id);
  return {
    params: {
      '/api/v1/sdk/agents/:id/compliance': { id },
      '/api/v1/sdk/agents/:id/compliance/evaluate': { id },
      '/api/v1/sdk/agents/:id/compliance/evidence/:framework': { id, framework: 'eu_ai_act' },
      '/api/v1/sdk/agents/:id/compliance/report': { id },
    },
    markers: [marker],
    async verify() {
      if ((await countEvaluations()) !== evaluations) throw new Error('victim agent was re-evaluated by another tenant');
      const latest = await server.store.compliance.latest(victim.id, agent.id, 'eu_ai_act', 0);
      if (latest?.evaluatedAt !== Date.parse(evaluated.evaluated_at)) throw new Error('victim compliance cache changed');
    },
  };
});
