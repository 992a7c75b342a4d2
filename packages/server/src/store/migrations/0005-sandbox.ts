import type { Migration } from './types.js';

type Sql = 'sqlite' | 'postgres';

// The two dialects differ only in the id and timestamp column types, so the statements are written once.
function statements(dialect: Sql): string[] {
  const serial = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  const ref = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const ts = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    `CREATE TABLE sandbox_agents (
       id ${serial},
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       name TEXT NOT NULL,
       version TEXT NOT NULL,
       description TEXT,
       entry_code TEXT NOT NULL,
       config TEXT NOT NULL,
       status TEXT NOT NULL,
       created_at ${ts} NOT NULL,
       updated_at ${ts} NOT NULL
     )`,
    `CREATE UNIQUE INDEX sandbox_agents_tenant_name_idx ON sandbox_agents (tenant_id, name)`,
    `CREATE TABLE sandbox_executions (
       id ${serial},
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       agent_id ${ref} NOT NULL,
       status TEXT NOT NULL,
       input TEXT NOT NULL,
       output TEXT,
       error TEXT,
       logs TEXT NOT NULL,
       host_call_audit TEXT NOT NULL,
       resource_usage TEXT NOT NULL,
       violation_count INTEGER NOT NULL,
       was_terminated INTEGER NOT NULL,
       termination_reason TEXT,
       resolved_config TEXT NOT NULL,
       code_hash TEXT NOT NULL,
       input_hash TEXT NOT NULL,
       output_hash TEXT,
       ledger_index ${ref},
       started_at ${ts} NOT NULL,
       finished_at ${ts}
     )`,
    `CREATE INDEX sandbox_executions_agent_idx ON sandbox_executions (tenant_id, agent_id, id)`,
    `CREATE TABLE sandbox_context (
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       agent_id ${ref} NOT NULL,
       key TEXT NOT NULL,
       value TEXT NOT NULL,
       updated_at ${ts} NOT NULL,
       PRIMARY KEY (tenant_id, agent_id, key)
     )`,
    `CREATE TABLE permission_requests (
       id ${serial},
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       agent_id ${ref} NOT NULL,
       status TEXT NOT NULL,
       permissions TEXT NOT NULL,
       justification TEXT,
       created_at ${ts} NOT NULL,
       expires_at ${ts} NOT NULL,
       decided_at ${ts},
       decided_by TEXT,
       comment TEXT
     )`,
    `CREATE INDEX permission_requests_status_idx ON permission_requests (tenant_id, status, id)`,
    `CREATE TABLE credentials (
       id TEXT PRIMARY KEY,
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       name TEXT NOT NULL,
       type TEXT NOT NULL,
       description TEXT,
       sealed_value TEXT NOT NULL,
       key_id TEXT NOT NULL,
       created_at ${ts} NOT NULL,
       revoked_at ${ts},
       rotated_from TEXT,
       last_used_at ${ts}
     )`,
    // One active credential per name and tenant; revoked ones keep their name for the record.
    `CREATE UNIQUE INDEX credentials_active_name_idx ON credentials (tenant_id, name) WHERE revoked_at IS NULL`,
    // Server-wide Ed25519 key that signs execution statements; the private half is sealed by the vault.
    `CREATE TABLE sandbox_signing_keys (
       id TEXT PRIMARY KEY,
       public_key TEXT NOT NULL,
       sealed_private_key TEXT NOT NULL,
       created_at ${ts} NOT NULL
     )`,
  ];
}

/** Sandboxed agents, their executions and context store, permission requests, sealed credentials. */
export const migration0005: Migration = {
  version: 5,
  name: 'sandbox',
  sqlite: statements('sqlite'),
  postgres: statements('postgres'),
};
