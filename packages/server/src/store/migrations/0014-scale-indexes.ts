import type { Migration } from './types.js';

// Indexes for queries that scanned a whole table as it grew (found in a review at 1,000,000 rows per table):
// - the hold sweeper (every 5 s, all tenants) asks for pending holds past their expiry: it scanned every hold ever
//   created (87 ms at 1M holds, on the event loop on SQLite);
// - `GET /api/v1/approvals` without `status` lists a tenant's newest holds: it sorted all of them (843 ms at 1M);
// - the rate-limit counter sweep (every 5 min) asks for expired counters: it scanned every counter.
// None of them is on the /v1/enforce write path's hot tables (decisions, violations, outputs, ledger records).
const STATEMENTS = [
  'CREATE INDEX holds_status_expires_idx ON holds (status, expires_at)',
  'CREATE INDEX holds_tenant_created_idx ON holds (tenant_id, created_at)',
  'CREATE INDEX rate_limit_counters_expires_idx ON rate_limit_counters (expires_at)',
];

/** Indexes for the hold sweeper, the approvals list and the counter sweep. */
export const migration0014: Migration = {
  version: 14,
  name: 'scale-indexes',
  sqlite: STATEMENTS,
  postgres: STATEMENTS,
};
