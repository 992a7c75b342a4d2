import type { Migration } from './types.js';

/**
 * `enforcement_agent_histories`: per agent, the tool → latest call time map that agent-wide sequence conditions
 * (`after.across: agent`) read (JSON, `@tollgate/core`'s `serializeAgentHistory`). Kept apart from
 * `enforcement_sessions`: any string is a valid session id, so no session key can be reserved for an agent.
 */
export const migration0010: Migration = {
  version: 10,
  name: 'agent-history',
  sqlite: [
    `CREATE TABLE enforcement_agent_histories (
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       agent_id TEXT NOT NULL,
       state TEXT NOT NULL,
       updated_at INTEGER NOT NULL,
       PRIMARY KEY (tenant_id, agent_id)
     )`,
  ],
  postgres: [
    `CREATE TABLE enforcement_agent_histories (
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       agent_id TEXT NOT NULL,
       state TEXT NOT NULL,
       updated_at BIGINT NOT NULL,
       PRIMARY KEY (tenant_id, agent_id)
     )`,
  ],
};
