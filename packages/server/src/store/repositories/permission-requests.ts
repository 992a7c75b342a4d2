import type { Generated, Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import { insertWithVisibleId } from './visible-ids.js';

export interface PermissionRequestsTable {
  id: Generated<number>;
  tenant_id: string;
  agent_id: number;
  status: string;
  permissions: string;
  justification: string | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  comment: string | null;
}

declare module '../schema.js' {
  interface Database {
    permission_requests: PermissionRequestsTable;
  }
}

export type PermissionRequestStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** An agent's request for more permissions, decided by a person. */
export interface PermissionRequest {
  id: number;
  tenantId: string;
  agentId: number;
  status: PermissionRequestStatus;
  permissions: Record<string, unknown>;
  justification: string | null;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  comment: string | null;
}

export type NewPermissionRequest = Pick<PermissionRequest, 'tenantId' | 'agentId' | 'permissions' | 'justification' | 'createdAt' | 'expiresAt'>;

export interface PermissionRequestDecision {
  status: 'approved' | 'denied' | 'expired';
  decidedAt: number;
  decidedBy: string | null;
  comment: string | null;
}

export interface PermissionRequestRepository {
  create(request: NewPermissionRequest): Promise<PermissionRequest>;
  get(tenantId: string, id: number): Promise<PermissionRequest | undefined>;
  /** Requests of one tenant, newest first, optionally by status. */
  list(tenantId: string, status?: PermissionRequestStatus, limit?: number): Promise<PermissionRequest[]>;
  /**
   * Decides a request only if it is still pending (compare-and-set, so two approvers cannot both win).
   * Returns the updated request, or undefined when it was not pending (or not in this tenant).
   */
  decide(tenantId: string, id: number, decision: PermissionRequestDecision): Promise<PermissionRequest | undefined>;
  /** Pending requests whose expiry is at or before `now`, across tenants (for the expiry sweep). */
  listDue(now: number, limit: number): Promise<PermissionRequest[]>;
  /** Pending, unexpired requests of one agent, counted up to `atMost` (enough to compare with a cap). */
  countPending(tenantId: string, agentId: number, now: number, atMost: number): Promise<number>;
}

function toRequest(row: Selectable<PermissionRequestsTable>): PermissionRequest {
  return {
    id: Number(row.id),
    tenantId: row.tenant_id,
    agentId: Number(row.agent_id),
    status: row.status as PermissionRequestStatus,
    permissions: JSON.parse(row.permissions) as Record<string, unknown>,
    justification: row.justification,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    decidedAt: row.decided_at === null ? null : Number(row.decided_at),
    decidedBy: row.decided_by,
    comment: row.comment,
  };
}

/**
 * Permission requests over both dialects.
 *
 * @example
 * const requests = createPermissionRequestRepository(db, 'sqlite');
 */
export function createPermissionRequestRepository(db: Kysely<Database>, _dialect: Dialect): PermissionRequestRepository {
  const get = async (tenantId: string, id: number) => {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = await db.selectFrom('permission_requests').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toRequest(row) : undefined;
  };
  return {
    async create(request) {
      const row = await insertWithVisibleId('permission_requests', (id) => db
        .insertInto('permission_requests')
        .values({
          id, tenant_id: request.tenantId, agent_id: request.agentId, status: 'pending', permissions: JSON.stringify(request.permissions),
          justification: request.justification, created_at: request.createdAt, expires_at: request.expiresAt,
          decided_at: null, decided_by: null, comment: null,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returningAll()
        .executeTakeFirst());
      return toRequest(row);
    },
    get,
    async list(tenantId, status, limit = 200) {
      let query = db.selectFrom('permission_requests').selectAll().where('tenant_id', '=', tenantId);
      if (status !== undefined) query = query.where('status', '=', status);
      const rows = await query.orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toRequest);
    },
    async decide(tenantId, id, decision) {
      if (!Number.isSafeInteger(id)) return undefined;
      const result = await db
        .updateTable('permission_requests')
        .set({ status: decision.status, decided_at: decision.decidedAt, decided_by: decision.decidedBy, comment: decision.comment })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0 ? get(tenantId, id) : undefined;
    },
    async countPending(tenantId, agentId, now, atMost) {
      const rows = await db.selectFrom('permission_requests').select('id').where('tenant_id', '=', tenantId).where('agent_id', '=', agentId)
        .where('status', '=', 'pending').where('expires_at', '>', now).limit(atMost).execute();
      return rows.length;
    },
    async listDue(now, limit) {
      const rows = await db
        .selectFrom('permission_requests').selectAll()
        .where('status', '=', 'pending').where('expires_at', '<=', now)
        .orderBy('expires_at').limit(limit).execute();
      return rows.map(toRequest);
    },
  };
}
