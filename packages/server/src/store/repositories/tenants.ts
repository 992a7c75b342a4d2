import type { Kysely, Selectable } from 'kysely';
import type { Database, TenantsTable } from '../schema.js';
import type { Dialect } from '../types.js';

/** A tenant: every other object belongs to exactly one. */
export interface Tenant {
  id: string;
  name: string;
  createdAt: number;
  /** Days of data retention for this tenant; null or absent = the server's `TOLLGATE_RETENTION_DAYS`, 0 = keep everything. */
  retentionDays?: number | null;
}

export interface TenantRepository {
  /** Inserts a tenant; throws on a duplicate id (the service maps that to CONFLICT). */
  create(tenant: Tenant): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
  /** All tenants ordered by id (tenants are few; operators list them). */
  list(): Promise<Tenant[]>;
  /** Sets (or with null clears) the tenant's retention period; undefined when there is no such tenant. */
  setRetentionDays(id: string, days: number | null): Promise<Tenant | undefined>;
}

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at), retentionDays: row.retention_days === null || row.retention_days === undefined ? null : Number(row.retention_days) };
}

/**
 * Tenant repository over both dialects.
 *
 * @example
 * const tenants = createTenantRepository(db, 'sqlite');
 */
export function createTenantRepository(db: Kysely<Database>, _dialect: Dialect): TenantRepository {
  return {
    async create(tenant) {
      // The column only when set: a database migrated to an earlier version (0001) still takes new tenants.
      const retention = tenant.retentionDays === undefined || tenant.retentionDays === null ? {} : { retention_days: tenant.retentionDays };
      await db.insertInto('tenants').values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt, ...retention }).execute();
      return tenant;
    },
    async get(id) {
      const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toTenant(row) : undefined;
    },
    async list() {
      const rows = await db.selectFrom('tenants').selectAll().orderBy('id').execute();
      return rows.map(toTenant);
    },
    async setRetentionDays(id, days) {
      const row = await db.updateTable('tenants').set({ retention_days: days }).where('id', '=', id).returningAll().executeTakeFirst();
      return row ? toTenant(row) : undefined;
    },
  };
}
