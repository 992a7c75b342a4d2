import type { Migration } from './types.js';

// `agent_ids`: JSON array of the agent ids a key may name (exact ids); NULL = every agent of the tenant, which is
// what every key created before this migration keeps.
const ADD_AGENT_IDS = 'ALTER TABLE api_keys ADD COLUMN agent_ids TEXT';

/** API keys restricted to named agents (docs/enforcement.md, "What the caller decides"). */
export const migration0009: Migration = {
  version: 9,
  name: 'api-key-agents',
  sqlite: [ADD_AGENT_IDS],
  postgres: [ADD_AGENT_IDS],
};
