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
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;
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
    VALUES (@id, @tenant_id, @decision_id, @ts, @agent_id, @user_id, @session_id, @tool_name, @decision, @severity, @reason, @rule_ids)`);
  const insertOutput = database.prepare(`INSERT INTO decision_outputs (tenant_id, decision_id, session_id, tool_name, ts, decision, reason, taints)
    VALUES (@tenant_id, @decision_id, @session_id, @tool_name, @ts, @decision, @reason, @taints)`);
  const upsertSession = database.prepare(`INSERT INTO enforcement_sessions (tenant_id, session_id, agent_id, state, updated_at)
    VALUES (@tenant_id, @session_id, @agent_id, @state, @updated_at)
    ON CONFLICT (tenant_id, session_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, agent_id = excluded.agent_id`);
  const upsertCounter = database.prepare(`INSERT INTO rate_limit_counters (tenant_id, counter_key, count, expires_at)
    VALUES (@tenant_id, @counter_key, @count, @expires_at)
    ON CONFLICT (tenant_id, counter_key) DO UPDATE SET count = rate_limit_counters.count + excluded.count`);
  const writeAll = database.transaction((batch: EnforcementBatch) => {
    for (const record of batch.decisions) insertDecision.run(decisionRow(record));
    for (const v of batch.violations) {
      insertViolation.run({
        id: v.id, tenant_id: v.tenantId, decision_id: v.decisionId, ts: v.ts, agent_id: v.agentId, user_id: v.userId, session_id: v.sessionId,
        tool_name: v.toolName, decision: v.decision, severity: v.severity, reason: v.reason, rule_ids: JSON.stringify(v.ruleIds),
      });
    }
    for (const hold of batch.holds) insertHold.run(holdToRow(hold));
    for (const o of batch.outputs) {
      insertOutput.run({ tenant_id: o.tenantId, decision_id: o.decisionId, session_id: o.sessionId, tool_name: o.toolName, ts: o.ts, decision: o.decision, reason: o.reason, taints: JSON.stringify(o.taints) });
    }
    for (const s of lastPerKey(batch.sessions, (row) => `${row.tenantId}\n${row.sessionId}`)) {
      upsertSession.run({ tenant_id: s.tenantId, session_id: s.sessionId, agent_id: s.agentId, state: s.state, updated_at: s.updatedAt });
    }
    for (const c of sumPerKey(batch.counters)) upsertCounter.run({ tenant_id: c.tenantId, counter_key: c.key, count: c.increment, expires_at: c.expiresAt });
  });
  return async (batch) => {
    while (database.inTransaction) await new Promise((resolve) => setImmediate(resolve));
    writeAll(batch);
  };
}
