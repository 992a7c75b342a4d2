import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

/** Agent id of the tenant-wide switch. */
export const GLOBAL_KILL_AGENT = '*';

export interface KillSwitchRecord {
  tenantId: string;
  /** `*` for the tenant-wide switch. */
  agentId: string;
  halted: boolean;
  reason: string | null;
  actor: string | null;
  updatedAt: number;
}

export interface KillSwitchRepository {
  set(record: KillSwitchRecord): Promise<void>;
  list(tenantId: string): Promise<KillSwitchRecord[]>;
  /** One switch (`*` for the tenant's), undefined if it was never set. */
  get(tenantId: string, agentId: string): Promise<KillSwitchRecord | undefined>;
  /** Every halted switch of every tenant (loaded once at start). */
  listHalted(): Promise<KillSwitchRecord[]>;
}

/**
 * Kill switches (migration 0002): one row per (tenant, agent), `*` for the whole tenant.
 *
 * @example
 * await store.killSwitches.set({ tenantId, agentId: '*', halted: true, reason: 'incident', actor: 'key_1', updatedAt: now });
 */
export function createKillSwitchRepository(db: Kysely<Database>, _dialect: Dialect): KillSwitchRepository {
  const toRecord = (row: { tenant_id: string; agent_id: string; halted: number; reason: string | null; actor: string | null; updated_at: number }): KillSwitchRecord => ({
    tenantId: row.tenant_id, agentId: row.agent_id, halted: Number(row.halted) === 1, reason: row.reason, actor: row.actor, updatedAt: Number(row.updated_at),
  });
  return {
    async set(record) {
      await db.insertInto('kill_switches')
        .values({ tenant_id: record.tenantId, agent_id: record.agentId, halted: record.halted ? 1 : 0, reason: record.reason, actor: record.actor, updated_at: record.updatedAt })
        .onConflict((conflict) => conflict.columns(['tenant_id', 'agent_id']).doUpdateSet({
          halted: (eb) => eb.ref('excluded.halted'), reason: (eb) => eb.ref('excluded.reason'),
          actor: (eb) => eb.ref('excluded.actor'), updated_at: (eb) => eb.ref('excluded.updated_at'),
        }))
        .execute();
    },
    async list(tenantId) {
      return (await db.selectFrom('kill_switches').selectAll().where('tenant_id', '=', tenantId).orderBy('agent_id').execute()).map(toRecord);
    },
    async get(tenantId, agentId) {
      const row = await db.selectFrom('kill_switches').selectAll().where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async listHalted() {
      return (await db.selectFrom('kill_switches').selectAll().where('halted', '=', 1).execute()).map(toRecord);
    },
  };
}
