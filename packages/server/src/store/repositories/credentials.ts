import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

export interface CredentialsTable {
  id: string;
  tenant_id: string;
  name: string;
  type: string;
  description: string | null;
  /** AES-256-GCM sealed value (see services/vault); never the plaintext. */
  sealed_value: string;
  key_id: string;
  created_at: number;
  revoked_at: number | null;
  rotated_from: string | null;
  last_used_at: number | null;
}

declare module '../schema.js' {
  interface Database {
    credentials: CredentialsTable;
  }
}

/** A stored credential. `sealedValue` only leaves the repository towards the vault. */
export interface CredentialRecord {
  id: string;
  tenantId: string;
  name: string;
  type: string;
  description: string | null;
  sealedValue: string;
  keyId: string;
  createdAt: number;
  revokedAt: number | null;
  rotatedFrom: string | null;
  lastUsedAt: number | null;
}

export interface CredentialRepository {
  /** Inserts; throws on a second active credential with the same name (unique index). */
  create(credential: CredentialRecord): Promise<CredentialRecord>;
  get(tenantId: string, id: string): Promise<CredentialRecord | undefined>;
  getActiveByName(tenantId: string, name: string): Promise<CredentialRecord | undefined>;
  /** Credentials of one tenant, newest first (revoked ones included). */
  list(tenantId: string): Promise<CredentialRecord[]>;
  /** Revokes if active; returns true when this call revoked it. */
  revoke(tenantId: string, id: string, at: number): Promise<boolean>;
  markUsed(tenantId: string, id: string, at: number): Promise<void>;
}

function toRecord(row: Selectable<CredentialsTable>): CredentialRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    type: row.type,
    description: row.description,
    sealedValue: row.sealed_value,
    keyId: row.key_id,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    rotatedFrom: row.rotated_from,
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/**
 * Credential rows over both dialects.
 *
 * @example
 * const credentials = createCredentialRepository(db, 'postgres');
 */
export function createCredentialRepository(db: Kysely<Database>, _dialect: Dialect): CredentialRepository {
  return {
    async create(credential) {
      await db
        .insertInto('credentials')
        .values({
          id: credential.id, tenant_id: credential.tenantId, name: credential.name, type: credential.type,
          description: credential.description, sealed_value: credential.sealedValue, key_id: credential.keyId,
          created_at: credential.createdAt, revoked_at: credential.revokedAt, rotated_from: credential.rotatedFrom,
          last_used_at: credential.lastUsedAt,
        })
        .execute();
      return credential;
    },
    async get(tenantId, id) {
      const row = await db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async getActiveByName(tenantId, name) {
      const row = await db
        .selectFrom('credentials').selectAll()
        .where('tenant_id', '=', tenantId).where('name', '=', name).where('revoked_at', 'is', null)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async list(tenantId) {
      const rows = await db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').orderBy('id').execute();
      return rows.map(toRecord);
    },
    async revoke(tenantId, id, at) {
      const result = await db
        .updateTable('credentials').set({ revoked_at: at })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async markUsed(tenantId, id, at) {
      await db.updateTable('credentials').set({ last_used_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    },
  };
}
