import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

/** Row of `dashboard_sessions` (migration 0007). */
export interface DashboardSessionsTable {
  id: string;
  tenant_id: string;
  key_id: string;
  csrf_token: string;
  user_agent: string | null;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  revoked_at: number | null;
}

declare module '../schema.js' {
  interface Database {
    dashboard_sessions: DashboardSessionsTable;
  }
}

/** A dashboard session as stored; `id` is the hash of the cookie value, never the value itself. */
export interface DashboardSessionRecord {
  id: string;
  tenantId: string;
  keyId: string;
  csrfToken: string;
  userAgent: string | null;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
}

export interface DashboardSessionRepository {
  create(session: DashboardSessionRecord): Promise<DashboardSessionRecord>;
  /** Cross-tenant lookup by hashed id: ONLY for authentication, which learns the tenant from the session. */
  findForAuthentication(id: string): Promise<DashboardSessionRecord | undefined>;
  touch(id: string, at: number): Promise<void>;
  revoke(id: string, at: number): Promise<void>;
  /** Ends every open session of a key (its key expired, was revoked or is being revived); returns how many. */
  revokeForKey(tenantId: string, keyId: string, at: number): Promise<number>;
  /** Deletes sessions that expired before `before`; returns how many. */
  deleteExpired(before: number): Promise<number>;
  /** Ends the open sessions of a key past its `keep` newest (by creation); returns how many. */
  revokeOldestForKey(tenantId: string, keyId: string, keep: number, at: number): Promise<number>;
}

function toRecord(row: Selectable<DashboardSessionsTable>): DashboardSessionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    keyId: row.key_id,
    csrfToken: row.csrf_token,
    userAgent: row.user_agent,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    lastSeenAt: Number(row.last_seen_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

/**
 * Dashboard session repository over both dialects.
 *
 * @example
 * const sessions = createDashboardSessionRepository(db, 'sqlite');
 */
export function createDashboardSessionRepository(db: Kysely<Database>, _dialect: Dialect): DashboardSessionRepository {
  return {
    async create(session) {
      await db
        .insertInto('dashboard_sessions')
        .values({
          id: session.id,
          tenant_id: session.tenantId,
          key_id: session.keyId,
          csrf_token: session.csrfToken,
          user_agent: session.userAgent,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          last_seen_at: session.lastSeenAt,
          revoked_at: session.revokedAt,
        })
        .execute();
      return session;
    },
    async findForAuthentication(id) {
      const row = await db.selectFrom('dashboard_sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async touch(id, at) {
      await db.updateTable('dashboard_sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async revoke(id, at) {
      await db
        .updateTable('dashboard_sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },
    async revokeForKey(tenantId, keyId, at) {
      const result = await db
        .updateTable('dashboard_sessions')
        .set({ revoked_at: at })
        .where('tenant_id', '=', tenantId)
        .where('key_id', '=', keyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async deleteExpired(before) {
      const result = await db.deleteFrom('dashboard_sessions').where('expires_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async revokeOldestForKey(tenantId, keyId, keep, at) {
      const older = await db.selectFrom('dashboard_sessions').select('id')
        .where('tenant_id', '=', tenantId).where('key_id', '=', keyId).where('revoked_at', 'is', null).where('expires_at', '>', at)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(10_000).offset(keep).execute();
      if (older.length === 0) return 0;
      const result = await db.updateTable('dashboard_sessions').set({ revoked_at: at }).where('tenant_id', '=', tenantId)
        .where('id', 'in', older.map((row) => row.id)).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
