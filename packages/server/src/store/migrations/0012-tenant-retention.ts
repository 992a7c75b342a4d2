import type { Migration } from './types.js';

// `retention_days`: the tenant's own data-retention period in days; NULL = the server's `TOLLGATE_RETENTION_DAYS`,
// 0 = keep everything of this tenant whatever the server's default.
const ADD_RETENTION_DAYS = 'ALTER TABLE tenants ADD COLUMN retention_days INTEGER';

/** Per-tenant data retention (docs/operations.md, "Storage"). */
export const migration0012: Migration = {
  version: 12,
  name: 'tenant-retention',
  sqlite: [ADD_RETENTION_DAYS],
  postgres: [ADD_RETENTION_DAYS],
};
