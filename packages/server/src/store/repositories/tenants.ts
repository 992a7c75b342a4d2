import type { Kysely, Selectable } from 'kysely';
import type { Database, TenantsTable } from '../schema.js';
import type { Dialect } from '../types.js';

/** A tenant: every other object belongs to exactly one. */
export interface Tenant {
  id: string;
  name: string;
  createdAt: number;
}

export interface TenantRepository {
  /** Inserts a tenant; throws on a duplicate id (the service maps that to CONFLICT). */
  create(tenant: Tenant): Promise<Tenant>;
  get(id: string): Promise<Tenant | undefined>;
  /** All tenants ordered by id (tenants are few; operators list them). */
  list(): Promise<Tenant[]>;
}

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at) };
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
      await db.insertInto('tenants').values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt }).execute();
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
  };
}
