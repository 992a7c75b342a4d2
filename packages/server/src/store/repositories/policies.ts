import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

export interface PolicyRecord {
  id: string;
  tenantId: string;
  name: string;
  description: string | null;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
  createdBy: string | null;
}

export interface PolicyVersionRecord {
  tenantId: string;
  policyId: string;
  version: number;
  source: string;
  sourceHash: string;
  comment: string | null;
  createdAt: number;
  createdBy: string | null;
}

export interface PolicyActivation {
  seq: number;
  tenantId: string;
  /** Null when the tenant was left without an active policy. */
  policyId: string | null;
  version: number | null;
  action: 'activate' | 'rollback' | 'deactivate';
  actor: string | null;
  createdAt: number;
}

export interface PolicyRepository {
  create(policy: PolicyRecord, first: PolicyVersionRecord): Promise<void>;
  get(tenantId: string, id: string): Promise<PolicyRecord | undefined>;
  getByName(tenantId: string, name: string): Promise<PolicyRecord | undefined>;
  list(tenantId: string): Promise<PolicyRecord[]>;
  /** Adds version `latestVersion + 1`; fails (unique key) if another writer added it first. */
  addVersion(version: PolicyVersionRecord): Promise<void>;
  getVersion(tenantId: string, policyId: string, version: number): Promise<PolicyVersionRecord | undefined>;
  /** Newest first; with `before`, only versions below it; with `limit`, at most that many. */
  listVersions(tenantId: string, policyId: string, page?: { before?: number | undefined; limit?: number | undefined }): Promise<PolicyVersionRecord[]>;
  recordActivation(activation: Omit<PolicyActivation, 'seq'>): Promise<void>;
  /** Newest first. */
  activations(tenantId: string, limit: number): Promise<PolicyActivation[]>;
  /** The latest activation of every tenant (loaded at start). */
  currentActivations(): Promise<PolicyActivation[]>;
}

/** Largest version number a policy can have (the versions column is a 32-bit INTEGER on PostgreSQL). */
const MAX_VERSION = 2 ** 31 - 1;

/**
 * Policies, their versions and the activation history (migration 0002). The active policy of a tenant is
 * its latest activation; rollback appends an activation of the one before.
 *
 * @example
 * const policies = createPolicyRepository(db, 'sqlite');
 */
export function createPolicyRepository(db: Kysely<Database>, _dialect: Dialect): PolicyRepository {
  const toPolicy = (row: { id: string; tenant_id: string; name: string; description: string | null; latest_version: number; created_at: number; updated_at: number; created_by: string | null }): PolicyRecord => ({
    id: row.id, tenantId: row.tenant_id, name: row.name, description: row.description, latestVersion: Number(row.latest_version),
    createdAt: Number(row.created_at), updatedAt: Number(row.updated_at), createdBy: row.created_by,
  });
  const toVersion = (row: { tenant_id: string; policy_id: string; version: number; source: string; source_hash: string; comment: string | null; created_at: number; created_by: string | null }): PolicyVersionRecord => ({
    tenantId: row.tenant_id, policyId: row.policy_id, version: Number(row.version), source: row.source, sourceHash: row.source_hash,
    comment: row.comment, createdAt: Number(row.created_at), createdBy: row.created_by,
  });
  const toActivation = (row: { seq: number; tenant_id: string; policy_id: string | null; version: number | null; action: string; actor: string | null; created_at: number }): PolicyActivation => ({
    seq: Number(row.seq), tenantId: row.tenant_id, policyId: row.policy_id, version: row.version === null ? null : Number(row.version),
    action: row.action as PolicyActivation['action'], actor: row.actor, createdAt: Number(row.created_at),
  });
  const insertVersion = (conn: Kysely<Database>, v: PolicyVersionRecord) => conn.insertInto('policy_versions').values({
    tenant_id: v.tenantId, policy_id: v.policyId, version: v.version, source: v.source, source_hash: v.sourceHash,
    comment: v.comment, created_at: v.createdAt, created_by: v.createdBy,
  }).execute();
  const inTransaction = <T>(fn: (conn: Kysely<Database>) => Promise<T>): Promise<T> =>
    db.isTransaction ? fn(db) : db.transaction().execute(fn);
  return {
    async create(policy, first) {
      await inTransaction(async (conn) => {
        await conn.insertInto('policies').values({
          id: policy.id, tenant_id: policy.tenantId, name: policy.name, description: policy.description,
          latest_version: policy.latestVersion, created_at: policy.createdAt, updated_at: policy.updatedAt, created_by: policy.createdBy,
        }).execute();
        await insertVersion(conn, first);
      });
    },
    async get(tenantId, id) {
      const row = await db.selectFrom('policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toPolicy(row) : undefined;
    },
    async getByName(tenantId, name) {
      const row = await db.selectFrom('policies').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      return row ? toPolicy(row) : undefined;
    },
    async list(tenantId) {
      return (await db.selectFrom('policies').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute()).map(toPolicy);
    },
    async addVersion(version) {
      await inTransaction(async (conn) => {
        await insertVersion(conn, version);
        await conn.updateTable('policies').set({ latest_version: version.version, updated_at: version.createdAt })
          .where('tenant_id', '=', version.tenantId).where('id', '=', version.policyId).execute();
      });
    },
    async getVersion(tenantId, policyId, version) {
      // Versions are PostgreSQL INTEGERs: a number a version can never be is not found (PostgreSQL would fail the query).
      if (!Number.isSafeInteger(version) || version < 1 || version > MAX_VERSION) return undefined;
      const row = await db.selectFrom('policy_versions').selectAll().where('tenant_id', '=', tenantId)
        .where('policy_id', '=', policyId).where('version', '=', version).executeTakeFirst();
      return row ? toVersion(row) : undefined;
    },
    async listVersions(tenantId, policyId, page = {}) {
      let query = db.selectFrom('policy_versions').selectAll().where('tenant_id', '=', tenantId).where('policy_id', '=', policyId);
      if (page.before !== undefined) query = query.where('version', '<', page.before);
      query = query.orderBy('version', 'desc');
      if (page.limit !== undefined) query = query.limit(page.limit);
      return (await query.execute()).map(toVersion);
    },
    async recordActivation(activation) {
      await db.insertInto('policy_activations').values({
        tenant_id: activation.tenantId, policy_id: activation.policyId, version: activation.version, action: activation.action,
        actor: activation.actor, created_at: activation.createdAt,
      }).execute();
    },
    async activations(tenantId, limit) {
      return (await db.selectFrom('policy_activations').selectAll().where('tenant_id', '=', tenantId).orderBy('seq', 'desc').limit(limit).execute()).map(toActivation);
    },
    async currentActivations() {
      const rows = await db.selectFrom('policy_activations as a').selectAll('a')
        .where('a.seq', 'in', (eb) => eb.selectFrom('policy_activations').select((e) => e.fn.max('seq').as('seq')).groupBy('tenant_id'))
        .execute();
      return rows.map(toActivation);
    },
  };
}
