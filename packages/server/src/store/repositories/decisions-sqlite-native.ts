import type BetterSqlite3 from 'better-sqlite3';
import type { EnforcementBatch } from './decisions.js';
import { decisionRow, lastPerKey, sumPerKey } from './decisions.js';
import { holdToRow } from './holds.js';

const DECISION_COLUMNS = [
  'id', 'tenant_id', 'ts', 'agent_id', 'user_id', 'session_id', 'tool_name', 'call_id', 'requested_mode', 'mode', 'decision', 'verdict',
  'would_have_been', 'reason', 'violation_id', 'severity', 'hold_id', 'policy_id', 'policy_version', 'matched_rules', 'shadow', 'errors',
  'arguments', 'approved_scope', 'context',
] as const;
const HOLD_COLUMNS = [
  'id', 'tenant_id', 'decision_id', 'action_hash', 'agent_id', 'user_id', 'session_id', 'tool_name', 'arguments', 'reason', 'status',
  'created_at', 'expires_at', 'decided_at', 'approver', 'comment', 'consumed_at',
] as const;

function insertSql(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

/**
 * The row's values in column order. Positional parameters: better-sqlite3 binds a named parameter by looking the
 * name up on the object and converting it for every row, which was ~40% of the cost of a decision insert.
 */
function valuesOf<C extends string>(row: Record<C, unknown>, columns: readonly C[]): unknown[] {
  const values = new Array<unknown>(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = row[columns[i] as C];
  return values;
}

/**
 * The SQLite fast path of `DecisionRepository.writeBatch`: prepared statements run inside one synchronous
 * better-sqlite3 transaction (about 10× faster than building multi-row INSERTs through Kysely). Same rows,
 * same tables. Waits while another (Kysely) transaction holds the shared connection, so the batch is never
 * nested inside someone else's transaction.
 *
 * @example
 * const write = createSqliteBatchWriter(store.native.database);
 * await write(batch);
 */
export function createSqliteBatchWriter(database: BetterSqlite3.Database): (batch: EnforcementBatch) => Promise<void> {
  const insertDecision = database.prepare(insertSql('decisions', DECISION_COLUMNS));
  const insertHold = database.prepare(insertSql('holds', HOLD_COLUMNS));
  const insertViolation = database.prepare(`INSERT INTO violations (id, tenant_id, decision_id, ts, agent_id, user_id, session_id, tool_name, decision, severity, reason, rule_ids)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertOutput = database.prepare(`INSERT INTO decision_outputs (tenant_id, decision_id, session_id, tool_name, ts, decision, reason, taints, agent_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const upsertSession = database.prepare(`INSERT INTO enforcement_sessions (tenant_id, session_id, agent_id, state, updated_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (tenant_id, session_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, agent_id = excluded.agent_id`);
  const upsertAgent = database.prepare(`INSERT INTO enforcement_agent_histories (tenant_id, agent_id, state, updated_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT (tenant_id, agent_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`);
  const upsertCounter = database.prepare(`INSERT INTO rate_limit_counters (tenant_id, counter_key, count, expires_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT (tenant_id, counter_key) DO UPDATE SET count = rate_limit_counters.count + excluded.count`);
  const writeAll = database.transaction((batch: EnforcementBatch) => {
    for (const record of batch.decisions) insertDecision.run(valuesOf(decisionRow(record), DECISION_COLUMNS));
    for (const v of batch.violations) {
      insertViolation.run(v.id, v.tenantId, v.decisionId, v.ts, v.agentId, v.userId, v.sessionId, v.toolName, v.decision, v.severity, v.reason, JSON.stringify(v.ruleIds));
    }
    for (const hold of batch.holds) insertHold.run(valuesOf(holdToRow(hold), HOLD_COLUMNS));
    for (const o of batch.outputs) insertOutput.run(o.tenantId, o.decisionId, o.sessionId, o.toolName, o.ts, o.decision, o.reason, JSON.stringify(o.taints), o.agentId);
    for (const s of lastPerKey(batch.sessions, (row) => `${row.tenantId}\n${row.sessionId}`)) upsertSession.run(s.tenantId, s.sessionId, s.agentId, s.state, s.updatedAt);
    for (const a of lastPerKey(batch.agents, (row) => `${row.tenantId}\n${row.agentId}`)) upsertAgent.run(a.tenantId, a.agentId, a.state, a.updatedAt);
    for (const c of sumPerKey(batch.counters)) upsertCounter.run(c.tenantId, c.key, c.increment, c.expiresAt);
  });
  return async (batch) => {
    while (database.inTransaction) await new Promise((resolve) => setImmediate(resolve));
    writeAll(batch);
  };
}
