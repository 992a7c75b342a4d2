import type { Migration } from './types.js';

type Sql = 'sqlite' | 'postgres';

// One row per framework per evaluation: the latest row of (tenant, agent, framework) is the cached status; older
// rows stay as history (each is also summarised in the ledger, `compliance.evaluated`).
function statements(dialect: Sql): string[] {
  const serial = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  const ref = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  const ts = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    `CREATE TABLE compliance_evaluations (
       id ${serial},
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       agent_id ${ref} NOT NULL,
       framework TEXT NOT NULL,
       status TEXT NOT NULL,
       coverage_percent INTEGER NOT NULL,
       report TEXT NOT NULL,
       ledger_index ${ref},
       evaluated_at ${ts} NOT NULL
     )`,
    `CREATE INDEX compliance_evaluations_agent_idx ON compliance_evaluations (tenant_id, agent_id, framework, id)`,
  ];
}

/** Compliance evaluations of sandboxed agents (cached status and history). */
export const migration0008: Migration = {
  version: 8,
  name: 'compliance',
  sqlite: statements('sqlite'),
  postgres: statements('postgres'),
};
