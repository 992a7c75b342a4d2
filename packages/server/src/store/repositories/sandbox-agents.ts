import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import { insertWithVisibleId } from './visible-ids.js';

export interface SandboxAgentsTable {
  id: import('kysely').Generated<number>;
  tenant_id: string;
  name: string;
  version: string;
  description: string | null;
  entry_code: string;
  /** JSON object: the AgentConfig overrides as given (snake_case), resolved against the template at run time. */
  config: string;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface SandboxContextTable {
  tenant_id: string;
  agent_id: number;
  key: string;
  /** JSON value. */
  value: string;
  updated_at: number;
}

declare module '../schema.js' {
  interface Database {
    sandbox_agents: SandboxAgentsTable;
    sandbox_context: SandboxContextTable;
  }
}

/** An agent as lists show it: everything but its code. */
export type SandboxAgentSummary = Omit<SandboxAgent, 'entryCode'>;

/** A sandboxed agent: code plus configuration overrides. */
export interface SandboxAgent {
  id: number;
  tenantId: string;
  name: string;
  version: string;
  description: string | null;
  entryCode: string;
  config: Record<string, unknown>;
  status: string;
  createdAt: number;
  updatedAt: number;
}

export type SandboxAgentFields = Pick<SandboxAgent, 'name' | 'version' | 'description' | 'entryCode' | 'config' | 'status'>;

export interface SandboxAgentRepository {
  /** Inserts, or updates the agent of the same name in this tenant; `created` tells which. */
  upsertByName(tenantId: string, fields: SandboxAgentFields, at: number): Promise<{ agent: SandboxAgent; created: boolean }>;
  get(tenantId: string, id: number): Promise<SandboxAgent | undefined>;
  getByName(tenantId: string, name: string): Promise<SandboxAgent | undefined>;
  /** Agents of one tenant, by id, without their code (up to 1 MiB each: a list of thousands would be gigabytes). */
  list(tenantId: string): Promise<SandboxAgentSummary[]>;
  update(tenantId: string, id: number, fields: Partial<SandboxAgentFields>, at: number): Promise<SandboxAgent | undefined>;
  /**
   * Compare-and-set of the config: writes `next` only if the stored config still equals `expected` (as read);
   * false when it changed in between (or the agent is gone). Read-merge-write callers retry on false.
   */
  replaceConfigIf(tenantId: string, id: number, expected: Record<string, unknown>, next: Record<string, unknown>, at: number): Promise<boolean>;
  /** Deletes the agent, its executions and its context; false when it is not in this tenant. */
  delete(tenantId: string, id: number): Promise<boolean>;
  getContext(tenantId: string, agentId: number, key: string): Promise<unknown>;
  setContext(tenantId: string, agentId: number, key: string, value: unknown, at: number): Promise<void>;
}

function toAgent(row: Selectable<SandboxAgentsTable>): SandboxAgent {
  return {
    id: Number(row.id),
    tenantId: row.tenant_id,
    name: row.name,
    version: row.version,
    description: row.description,
    entryCode: row.entry_code,
    config: JSON.parse(row.config) as Record<string, unknown>,
    status: row.status,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toColumns(fields: Partial<SandboxAgentFields>): Partial<Omit<SandboxAgentsTable, 'id' | 'tenant_id'>> {
  const columns: Partial<Omit<SandboxAgentsTable, 'id' | 'tenant_id'>> = {};
  if (fields.name !== undefined) columns.name = fields.name;
  if (fields.version !== undefined) columns.version = fields.version;
  if (fields.description !== undefined) columns.description = fields.description;
  if (fields.entryCode !== undefined) columns.entry_code = fields.entryCode;
  if (fields.config !== undefined) columns.config = JSON.stringify(fields.config);
  if (fields.status !== undefined) columns.status = fields.status;
  return columns;
}

/**
 * Sandboxed agents and their context store, over both dialects.
 *
 * @example
 * const agents = createSandboxAgentRepository(db, 'sqlite');
 */
export function createSandboxAgentRepository(db: Kysely<Database>, _dialect: Dialect): SandboxAgentRepository {
  const get = async (tenantId: string, id: number) => {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = await db.selectFrom('sandbox_agents').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toAgent(row) : undefined;
  };
  const getByName = async (tenantId: string, name: string) => {
    const row = await db.selectFrom('sandbox_agents').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
    return row ? toAgent(row) : undefined;
  };
  const update = async (tenantId: string, id: number, fields: Partial<SandboxAgentFields>, at: number) => {
    await db.updateTable('sandbox_agents').set({ ...toColumns(fields), updated_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    return get(tenantId, id);
  };
  return {
    async replaceConfigIf(tenantId, id, expected, next, at) {
      // The column holds JSON.stringify(config), and JSON.stringify(JSON.parse(text)) === text for such text.
      const result = await db.updateTable('sandbox_agents').set({ config: JSON.stringify(next), updated_at: at })
        .where('tenant_id', '=', tenantId).where('id', '=', id).where('config', '=', JSON.stringify(expected)).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async upsertByName(tenantId, fields, at) {
      const existing = await getByName(tenantId, fields.name);
      if (existing) return { agent: (await update(tenantId, existing.id, fields, at))!, created: false };
      const row = await insertWithVisibleId('sandbox_agents', (id) => db
        .insertInto('sandbox_agents')
        .values({ id, tenant_id: tenantId, ...(toColumns(fields) as Omit<SandboxAgentsTable, 'id' | 'tenant_id' | 'created_at' | 'updated_at'>), created_at: at, updated_at: at })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returningAll()
        .executeTakeFirst());
      return { agent: toAgent(row), created: true };
    },
    get,
    getByName,
    async list(tenantId) {
      const rows = await db.selectFrom('sandbox_agents')
        .select(['id', 'tenant_id', 'name', 'version', 'description', 'config', 'status', 'created_at', 'updated_at'])
        .where('tenant_id', '=', tenantId).orderBy('id').execute();
      return rows.map((row) => {
        const { entryCode: _code, ...summary } = toAgent({ ...row, entry_code: '' });
        return summary;
      });
    },
    update,
    async delete(tenantId, id) {
      if (!Number.isSafeInteger(id)) return false;
      await db.deleteFrom('sandbox_executions').where('tenant_id', '=', tenantId).where('agent_id', '=', id).execute();
      await db.deleteFrom('sandbox_context').where('tenant_id', '=', tenantId).where('agent_id', '=', id).execute();
      const result = await db.deleteFrom('sandbox_agents').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async getContext(tenantId, agentId, key) {
      const row = await db
        .selectFrom('sandbox_context').select('value')
        .where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).where('key', '=', key)
        .executeTakeFirst();
      return row ? (JSON.parse(row.value) as unknown) : null;
    },
    async setContext(tenantId, agentId, key, value, at) {
      const json = JSON.stringify(value ?? null);
      await db
        .insertInto('sandbox_context')
        .values({ tenant_id: tenantId, agent_id: agentId, key, value: json, updated_at: at })
        .onConflict((oc) => oc.columns(['tenant_id', 'agent_id', 'key']).doUpdateSet({ value: json, updated_at: at }))
        .execute();
    },
  };
}
