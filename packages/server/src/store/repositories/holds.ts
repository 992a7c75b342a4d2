import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import { parseJsonColumn } from './enforcement-tables.js';
import type { HoldsTable } from './enforcement-tables.js';

export type HoldStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A step-up hold: a call waiting for a person, bound to the SHA-256 of its exact action. */
export interface HoldRecord {
  id: string;
  tenantId: string;
  decisionId: string;
  actionHash: string;
  agentId: string;
  userId: string;
  sessionId: string;
  toolName: string;
  arguments: unknown;
  reason: string;
  status: HoldStatus;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  approver: string | null;
  comment: string | null;
  /** When an approved hold was used to release its call (an approval releases one call only). */
  consumedAt: number | null;
}

export interface HoldRepository {
  get(tenantId: string, id: string): Promise<HoldRecord | undefined>;
  list(tenantId: string, query: { status?: HoldStatus | undefined; limit: number }): Promise<HoldRecord[]>;
  /** Moves a pending hold to approved/denied; returns undefined when it was not pending any more (race lost). */
  decide(tenantId: string, id: string, decision: { status: 'approved' | 'denied'; at: number; approver: string | null; comment: string | null }): Promise<HoldRecord | undefined>;
  /** Marks pending holds past their expiry as expired and returns them. */
  expireDue(tenantId: string | null, now: number): Promise<HoldRecord[]>;
  /** An approved, unused, unexpired hold for exactly this action (the agent re-sent the approved call). */
  findApproved(tenantId: string, actionHash: string, now: number): Promise<HoldRecord | undefined>;
  /** Marks an approved hold as used; false when it was already used. */
  consume(tenantId: string, id: string, at: number): Promise<boolean>;
  /** The newest pending, unexpired hold for exactly this action (the agent re-sent a call that waits for a human). */
  findPending(tenantId: string, actionHash: string, now: number): Promise<HoldRecord | undefined>;
  /** Pending, unexpired holds of one agent, counted up to `atMost` (enough to compare with a cap). */
  countPending(tenantId: string, agentId: string, now: number, atMost: number): Promise<number>;
}

export function holdToRow(hold: HoldRecord) {
  return {
    id: hold.id, tenant_id: hold.tenantId, decision_id: hold.decisionId, action_hash: hold.actionHash, agent_id: hold.agentId,
    user_id: hold.userId, session_id: hold.sessionId, tool_name: hold.toolName,
    arguments: hold.arguments === undefined ? null : JSON.stringify(hold.arguments), reason: hold.reason, status: hold.status,
    created_at: hold.createdAt, expires_at: hold.expiresAt, decided_at: hold.decidedAt, approver: hold.approver,
    comment: hold.comment, consumed_at: hold.consumedAt,
  };
}

function toHold(row: Selectable<HoldsTable>): HoldRecord {
  return {
    id: row.id, tenantId: row.tenant_id, decisionId: row.decision_id, actionHash: row.action_hash, agentId: row.agent_id,
    userId: row.user_id, sessionId: row.session_id, toolName: row.tool_name, arguments: parseJsonColumn(row.arguments),
    reason: row.reason, status: row.status as HoldStatus, createdAt: Number(row.created_at), expiresAt: Number(row.expires_at),
    decidedAt: row.decided_at === null ? null : Number(row.decided_at), approver: row.approver, comment: row.comment,
    consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
  };
}

/**
 * Holds (migration 0002). State changes are conditional updates (`WHERE status = 'pending'`), so two
 * approvers racing, or an approval racing the expiry, resolve to exactly one outcome.
 *
 * @example
 * const holds = createHoldRepository(db, 'sqlite');
 */
export function createHoldRepository(db: Kysely<Database>, _dialect: Dialect): HoldRepository {
  return {
    async get(tenantId, id) {
      const row = await db.selectFrom('holds').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toHold(row) : undefined;
    },
    async list(tenantId, query) {
      let select = db.selectFrom('holds').selectAll().where('tenant_id', '=', tenantId);
      if (query.status !== undefined) select = select.where('status', '=', query.status);
      return (await select.orderBy('created_at', 'desc').limit(query.limit).execute()).map(toHold);
    },
    async decide(tenantId, id, decision) {
      const result = await db.updateTable('holds')
        .set({ status: decision.status, decided_at: decision.at, approver: decision.approver, comment: decision.comment })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').where('expires_at', '>', decision.at)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      return this.get(tenantId, id);
    },
    async expireDue(tenantId, now) {
      let select = db.selectFrom('holds').selectAll().where('status', '=', 'pending').where('expires_at', '<=', now);
      if (tenantId !== null) select = select.where('tenant_id', '=', tenantId);
      const due = await select.limit(1000).execute();
      const expired: HoldRecord[] = [];
      for (const row of due) {
        const result = await db.updateTable('holds').set({ status: 'expired', decided_at: now })
          .where('tenant_id', '=', row.tenant_id).where('id', '=', row.id).where('status', '=', 'pending').executeTakeFirst();
        if (Number(result.numUpdatedRows) > 0) expired.push({ ...toHold(row), status: 'expired', decidedAt: now });
      }
      return expired;
    },
    async findApproved(tenantId, actionHash, now) {
      const row = await db.selectFrom('holds').selectAll().where('tenant_id', '=', tenantId).where('action_hash', '=', actionHash)
        .where('status', '=', 'approved').where('consumed_at', 'is', null).where('expires_at', '>', now)
        .orderBy('decided_at', 'desc').executeTakeFirst();
      return row ? toHold(row) : undefined;
    },
    async findPending(tenantId, actionHash, now) {
      const row = await db.selectFrom('holds').selectAll().where('tenant_id', '=', tenantId).where('action_hash', '=', actionHash)
        .where('status', '=', 'pending').where('expires_at', '>', now).orderBy('created_at', 'desc').executeTakeFirst();
      return row ? toHold(row) : undefined;
    },
    async countPending(tenantId, agentId, now, atMost) {
      const rows = await db.selectFrom('holds').select('id').where('tenant_id', '=', tenantId).where('status', '=', 'pending')
        .where('agent_id', '=', agentId).where('expires_at', '>', now).limit(atMost).execute();
      return rows.length;
    },
    async consume(tenantId, id, at) {
      const result = await db.updateTable('holds').set({ consumed_at: at })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'approved').where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
