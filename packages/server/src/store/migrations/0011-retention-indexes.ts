import type { Migration } from './types.js';

// Per tenant, the column data retention dates rows by, where no index had it first after tenant_id: without these,
// a retention pass that finds nothing left to delete scanned each whole table (on SQLite, holding the event loop).
const INDEXES = [
  'CREATE INDEX decision_outputs_tenant_ts_idx ON decision_outputs (tenant_id, ts)',
  'CREATE INDEX holds_tenant_expires_idx ON holds (tenant_id, expires_at)',
  'CREATE INDEX enforcement_sessions_tenant_updated_idx ON enforcement_sessions (tenant_id, updated_at)',
  'CREATE INDEX enforcement_agent_histories_tenant_updated_idx ON enforcement_agent_histories (tenant_id, updated_at)',
];

/** Indexes for data retention (`TOLLGATE_RETENTION_DAYS`, docs/operations.md). */
export const migration0011: Migration = {
  version: 11,
  name: 'retention-indexes',
  sqlite: INDEXES,
  postgres: INDEXES,
};
