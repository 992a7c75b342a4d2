import { sql, type Generated, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

/** Row of `compliance_evaluations` (migration 0008). */
export interface ComplianceEvaluationsTable {
  id: Generated<number>;
  tenant_id: string;
  agent_id: number;
  framework: string;
  status: string;
  coverage_percent: number;
  /** JSON: the framework's evaluation (controls, checks, evidence) as the API shows it. */
  report: string;
  ledger_index: number | null;
  evaluated_at: number;
}

declare module '../schema.js' {
  interface Database {
    compliance_evaluations: ComplianceEvaluationsTable;
  }
}

/** One stored framework evaluation of one agent. */
export interface StoredComplianceEvaluation {
  id: number;
  tenantId: string;
  agentId: number;
  framework: string;
  status: string;
  coveragePercent: number;
  report: Record<string, unknown>;
  ledgerIndex: number | null;
  evaluatedAt: number;
}

export type NewComplianceEvaluation = Omit<StoredComplianceEvaluation, 'id'>;

export interface ComplianceRepository {
  insert(evaluation: NewComplianceEvaluation): Promise<StoredComplianceEvaluation>;
  /** The newest evaluation of a framework for an agent, ignoring rows older than `since` (e.g. the agent's creation). */
  latest(tenantId: string, agentId: number, framework: string, since: number): Promise<StoredComplianceEvaluation | undefined>;
  /** Deletes every stored evaluation of an agent (with the agent; the ledger keeps its `compliance.evaluated` records). Returns the count. */
  deleteByAgent(tenantId: string, agentId: number): Promise<number>;
  /**
   * Names of the triggers that exist on the given tables (not tenant data: the schema's own state, used as
   * evidence that the ledger's append-only triggers are installed).
   */
  triggersOn(tables: readonly string[]): Promise<string[]>;
}

function toRecord(row: Selectable<ComplianceEvaluationsTable>): StoredComplianceEvaluation {
  return {
    id: Number(row.id),
    tenantId: row.tenant_id,
    agentId: Number(row.agent_id),
    framework: row.framework,
    status: row.status,
    coveragePercent: Number(row.coverage_percent),
    report: JSON.parse(row.report) as Record<string, unknown>,
    ledgerIndex: row.ledger_index === null ? null : Number(row.ledger_index),
    evaluatedAt: Number(row.evaluated_at),
  };
}

/**
 * Compliance evaluations over both dialects.
 *
 * @example
 * const latest = await store.compliance.latest('acme', 3, 'soc2', agent.createdAt);
 */
export function createComplianceRepository(db: Kysely<Database>, dialect: Dialect): ComplianceRepository {
  return {
    async insert(evaluation) {
      const row = await db
        .insertInto('compliance_evaluations')
        .values({
          tenant_id: evaluation.tenantId,
          agent_id: evaluation.agentId,
          framework: evaluation.framework,
          status: evaluation.status,
          coverage_percent: evaluation.coveragePercent,
          report: JSON.stringify(evaluation.report),
          ledger_index: evaluation.ledgerIndex,
          evaluated_at: evaluation.evaluatedAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRecord(row);
    },
    async latest(tenantId, agentId, framework, since) {
      const row = await db
        .selectFrom('compliance_evaluations')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('agent_id', '=', agentId)
        .where('framework', '=', framework)
        .where('evaluated_at', '>=', since)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async deleteByAgent(tenantId, agentId) {
      const result = await db.deleteFrom('compliance_evaluations').where('tenant_id', '=', tenantId).where('agent_id', '=', agentId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async triggersOn(tables) {
      if (tables.length === 0) return [];
      if (dialect === 'sqlite') {
        const result = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (${sql.join(tables)}) ORDER BY name`.execute(db);
        return result.rows.map((row) => row.name);
      }
      const result = await sql<{ name: string }>`SELECT t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.relname IN (${sql.join(tables)}) AND pg_table_is_visible(c.oid) ORDER BY t.tgname`.execute(db);
      return result.rows.map((row) => row.name);
    },
  };
}
