import type { Generated, Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import { insertWithVisibleId } from './visible-ids.js';

export interface SandboxExecutionsTable {
  id: Generated<number>;
  tenant_id: string;
  agent_id: number;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  logs: string;
  host_call_audit: string;
  resource_usage: string;
  violation_count: number;
  was_terminated: number;
  termination_reason: string | null;
  resolved_config: string;
  code_hash: string;
  input_hash: string;
  output_hash: string | null;
  ledger_index: number | null;
  started_at: number;
  finished_at: number | null;
}

declare module '../schema.js' {
  interface Database {
    sandbox_executions: SandboxExecutionsTable;
  }
}

export interface ExecutionError {
  code: string;
  message: string;
}

/** One run of an agent, with everything needed to show and verify it. */
export interface SandboxExecution {
  id: number;
  tenantId: string;
  agentId: number;
  /** `running`, then `completed`, `failed`, `terminated` or `blocked`. */
  status: string;
  input: unknown;
  output: unknown;
  error: ExecutionError | null;
  logs: unknown[];
  hostCallAudit: unknown[];
  resourceUsage: Record<string, number>;
  violationCount: number;
  wasTerminated: boolean;
  terminationReason: string | null;
  resolvedConfig: Record<string, unknown>;
  codeHash: string;
  inputHash: string;
  outputHash: string | null;
  ledgerIndex: number | null;
  startedAt: number;
  finishedAt: number | null;
}

export type NewExecution = Pick<SandboxExecution, 'tenantId' | 'agentId' | 'input' | 'resolvedConfig' | 'codeHash' | 'inputHash' | 'startedAt'>;
export type ExecutionOutcome = Pick<
  SandboxExecution,
  'status' | 'output' | 'error' | 'logs' | 'hostCallAudit' | 'resourceUsage' | 'violationCount' | 'wasTerminated' | 'terminationReason' | 'outputHash' | 'finishedAt'
>;

export interface ExecutionListQuery {
  status?: string | undefined;
  /** 1-based page. */
  page?: number | undefined;
  limit?: number | undefined;
}

export interface SandboxExecutionRepository {
  /** Records a run as `running` and returns it with its new id. */
  start(execution: NewExecution): Promise<SandboxExecution>;
  /** Records the end of a run (and, when known, the index of its `sandbox.execution` ledger record). */
  finish(tenantId: string, id: number, outcome: ExecutionOutcome, ledgerIndex?: number | null): Promise<void>;
  setLedgerIndex(tenantId: string, id: number, ledgerIndex: number): Promise<void>;
  get(tenantId: string, id: number): Promise<SandboxExecution | undefined>;
  /** Executions of one agent, newest first. */
  listByAgent(tenantId: string, agentId: number, query?: ExecutionListQuery): Promise<{ executions: SandboxExecution[]; total: number }>;
  /** Id and start time of the agent's `n`-th newest execution (1 = newest), read from the index without a count. */
  nthNewest(tenantId: string, agentId: number, n: number): Promise<{ id: number; startedAt: number } | undefined>;
}

const parse = <T>(text: string | null, fallback: T): T => (text === null ? fallback : (JSON.parse(text) as T));

function toExecution(row: Selectable<SandboxExecutionsTable>): SandboxExecution {
  return {
    id: Number(row.id),
    tenantId: row.tenant_id,
    agentId: Number(row.agent_id),
    status: row.status,
    input: parse(row.input, null),
    output: parse(row.output, null),
    error: parse<ExecutionError | null>(row.error, null),
    logs: parse(row.logs, []),
    hostCallAudit: parse(row.host_call_audit, []),
    resourceUsage: parse(row.resource_usage, {}),
    violationCount: Number(row.violation_count),
    wasTerminated: Number(row.was_terminated) === 1,
    terminationReason: row.termination_reason,
    resolvedConfig: parse(row.resolved_config, {}),
    codeHash: row.code_hash,
    inputHash: row.input_hash,
    outputHash: row.output_hash,
    ledgerIndex: row.ledger_index === null ? null : Number(row.ledger_index),
    startedAt: Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

export const DEFAULT_EXECUTION_PAGE_SIZE = 50;
export const MAX_EXECUTION_PAGE_SIZE = 500;

/**
 * Executions over both dialects.
 *
 * @example
 * const executions = createSandboxExecutionRepository(db, 'postgres');
 */
export function createSandboxExecutionRepository(db: Kysely<Database>, _dialect: Dialect): SandboxExecutionRepository {
  const get = async (tenantId: string, id: number) => {
    if (!Number.isSafeInteger(id)) return undefined;
    const row = await db.selectFrom('sandbox_executions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row ? toExecution(row) : undefined;
  };
  return {
    async start(execution) {
      const row = await insertWithVisibleId('sandbox_executions', (id) => db
        .insertInto('sandbox_executions')
        .values({
          id, tenant_id: execution.tenantId, agent_id: execution.agentId, status: 'running',
          input: JSON.stringify(execution.input ?? null), output: null, error: null, logs: '[]', host_call_audit: '[]',
          resource_usage: '{}', violation_count: 0, was_terminated: 0, termination_reason: null,
          resolved_config: JSON.stringify(execution.resolvedConfig), code_hash: execution.codeHash,
          input_hash: execution.inputHash, output_hash: null, ledger_index: null, started_at: execution.startedAt, finished_at: null,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returningAll()
        .executeTakeFirst());
      return toExecution(row);
    },
    async finish(tenantId, id, outcome, ledgerIndex = null) {
      await db
        .updateTable('sandbox_executions')
        .set({
          status: outcome.status, output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
          error: outcome.error === null ? null : JSON.stringify(outcome.error), logs: JSON.stringify(outcome.logs),
          host_call_audit: JSON.stringify(outcome.hostCallAudit), resource_usage: JSON.stringify(outcome.resourceUsage),
          violation_count: outcome.violationCount, was_terminated: outcome.wasTerminated ? 1 : 0,
          termination_reason: outcome.terminationReason, output_hash: outcome.outputHash, finished_at: outcome.finishedAt,
          ...(ledgerIndex === null ? {} : { ledger_index: ledgerIndex }),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    async setLedgerIndex(tenantId, id, ledgerIndex) {
      await db.updateTable('sandbox_executions').set({ ledger_index: ledgerIndex }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    },
    get,
    async nthNewest(tenantId, agentId, n) {
      if (!Number.isSafeInteger(n) || n < 1) return undefined;
      const row = await db.selectFrom('sandbox_executions').select(['id', 'started_at']).where('tenant_id', '=', tenantId).where('agent_id', '=', agentId)
        .orderBy('id', 'desc').limit(1).offset(n - 1).executeTakeFirst();
      return row ? { id: Number(row.id), startedAt: Number(row.started_at) } : undefined;
    },
    async listByAgent(tenantId, agentId, query = {}) {
      const limit = Math.min(Math.max(query.limit ?? DEFAULT_EXECUTION_PAGE_SIZE, 1), MAX_EXECUTION_PAGE_SIZE);
      const offset = (Math.max(query.page ?? 1, 1) - 1) * limit;
      let base = db.selectFrom('sandbox_executions').where('tenant_id', '=', tenantId).where('agent_id', '=', agentId);
      if (query.status !== undefined) base = base.where('status', '=', query.status);
      const rows = await base.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
      const count = await base.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirst();
      return { executions: rows.map(toExecution), total: Number(count?.total ?? 0) };
    },
  };
}
