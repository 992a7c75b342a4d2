import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from '../schema.js';
import type { Dialect } from '../types.js';

/** An API key as stored: the secret is only ever present as its hash. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  secretHash: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  createdBy: string | null;
  /** Exact agent ids the key may act for; null = every agent of the tenant. */
  agentIds: readonly string[] | null;
}

export interface ApiKeyRepository {
  create(key: ApiKeyRecord): Promise<ApiKeyRecord>;
  /** Cross-tenant lookup by id: ONLY for authentication, which learns the tenant from the key. */
  findForAuthentication(id: string): Promise<ApiKeyRecord | undefined>;
  get(tenantId: string, id: string): Promise<ApiKeyRecord | undefined>;
  /** Keys of one tenant, newest first. */
  list(tenantId: string): Promise<ApiKeyRecord[]>;
  /** At most `limit` keys of one tenant in the order of {@link list}, after the key at `after` (keyset paging). */
  listPage(tenantId: string, page: { after?: { createdAt: number; id: string } | undefined; limit: number }): Promise<ApiKeyRecord[]>;
  /** Sets `revokedAt` if not yet revoked; returns the key, or undefined when it is not in this tenant. */
  revoke(tenantId: string, id: string, at: number): Promise<ApiKeyRecord | undefined>;
  /** Sets or clears the expiry; returns the key, or undefined when it is not in this tenant. */
  setExpiry(tenantId: string, id: string, expiresAt: number | null): Promise<ApiKeyRecord | undefined>;
}

function toRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    createdBy: row.created_by,
    agentIds: row.agent_ids === null ? null : (JSON.parse(row.agent_ids) as string[]),
  };
}

/**
 * API key repository over both dialects.
 *
 * @example
 * const keys = createApiKeyRepository(db, 'postgres');
 */
export function createApiKeyRepository(db: Kysely<Database>, _dialect: Dialect): ApiKeyRepository {
  const get = async (tenantId: string, id: string) => {
    const row = await db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  };
  return {
    async create(key) {
      await db
        .insertInto('api_keys')
        .values({
          id: key.id,
          tenant_id: key.tenantId,
          name: key.name,
          secret_hash: key.secretHash,
          scopes: JSON.stringify(key.scopes),
          created_at: key.createdAt,
          expires_at: key.expiresAt,
          revoked_at: key.revokedAt,
          created_by: key.createdBy,
          agent_ids: key.agentIds === null ? null : JSON.stringify(key.agentIds),
        })
        .execute();
      return key;
    },
    async findForAuthentication(id) {
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    get,
    async list(tenantId) {
      const rows = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },
    async listPage(tenantId, page) {
      let query = db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId);
      const after = page.after;
      if (after) query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
      const rows = await query.orderBy('created_at', 'desc').orderBy('id').limit(page.limit).execute();
      return rows.map(toRecord);
    },
    async revoke(tenantId, id, at) {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      return get(tenantId, id);
    },
    async setExpiry(tenantId, id, expiresAt) {
      await db
        .updateTable('api_keys')
        .set({ expires_at: expiresAt })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
      return get(tenantId, id);
    },
  };
}
