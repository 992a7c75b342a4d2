import type { Migration } from './types.js';

// `decision_outputs.agent_id`: the agent a tool output was returned to, so the values returned to an agent in any of
// its sessions can be read back (data-flow rules with `across: agent`). Rows written before this migration take the
// agent of their decision, or else of their session; rows matching neither keep NULL and are never read per agent.
const STATEMENTS = [
  'ALTER TABLE decision_outputs ADD COLUMN agent_id TEXT',
  `UPDATE decision_outputs SET agent_id = COALESCE(
     (SELECT d.agent_id FROM decisions d WHERE d.tenant_id = decision_outputs.tenant_id AND d.id = decision_outputs.decision_id),
     (SELECT s.agent_id FROM enforcement_sessions s WHERE s.tenant_id = decision_outputs.tenant_id AND s.session_id = decision_outputs.session_id))`,
  'CREATE INDEX decision_outputs_tenant_agent_ts_idx ON decision_outputs (tenant_id, agent_id, ts, seq)',
];

/** Agent-wide data flow (docs/policy-language.md, "Data-flow rules"). */
export const migration0013: Migration = {
  version: 13,
  name: 'output-agents',
  sqlite: STATEMENTS,
  postgres: STATEMENTS,
};
