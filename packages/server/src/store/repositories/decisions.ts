import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import { parseJsonColumn } from './enforcement-tables.js';
import type { DecisionOutputsTable, DecisionsTable, ViolationsTable } from './enforcement-tables.js';
import type { HoldRecord } from './holds.js';
import { holdToRow } from './holds.js';

/** One recorded decision with everything needed to replay it. */
export interface DecisionRecord {
  id: string;
  tenantId: string;
  ts: number;
  agentId: string;
  userId: string;
  sessionId: string;
  toolName: string;
  callId: string | null;
  requestedMode: string;
  mode: string;
  decision: string;
  verdict: string;
  wouldHaveBeen: string | null;
  reason: string;
  violationId: string | null;
  severity: string | null;
  holdId: string | null;
  policyId: string | null;
  policyVersion: number | null;
  matchedRules: string[];
  shadow: unknown[];
  errors: unknown[];
  arguments: unknown;
  approvedScope: string[] | null;
  /** Session state before the call, safety scores, rate counts, kill-switch state (JSON). */
  context: unknown;
}

export interface StoredDecision extends DecisionRecord {
  seq: number;
}

export interface ViolationRecord {
  id: string;
  tenantId: string;
  decisionId: string;
  ts: number;
  agentId: string;
  userId: string;
  sessionId: string;
  toolName: string;
  decision: string;
  severity: string | null;
  reason: string;
  ruleIds: string[];
}

/** Data-flow fingerprints recorded from a tool's output (replay re-applies them). */
export interface OutputRecord {
  tenantId: string;
  decisionId: string;
  /** The agent the output was returned to (null only for rows older than migration 0013 it could not be found for). */
  agentId: string | null;
  sessionId: string;
  toolName: string;
  ts: number;
  decision: string;
  reason: string;
  taints: unknown;
}

/** The values an output recorded (`OutputRecord.taints`): `[fingerprint, labels]` pairs and the session's word counts. */
export interface StoredOutputTaints {
  added: Array<[string, string[]]>;
  windowSizes: number[];
}

/**
 * Reads `OutputRecord.taints` back; malformed parts (a damaged or hand-edited row) are skipped, never thrown.
 *
 * @example
 * for (const [fingerprint, labels] of outputTaintsOf(row).added) …
 */
export function outputTaintsOf(row: Pick<OutputRecord, 'taints'>): StoredOutputTaints {
  const stored = (typeof row.taints === 'object' && row.taints !== null ? row.taints : {}) as { added?: unknown; windowSizes?: unknown };
  const added: Array<[string, string[]]> = [];
  if (Array.isArray(stored.added)) {
    for (const item of stored.added) {
      if (Array.isArray(item) && typeof item[0] === 'string' && Array.isArray(item[1])) {
        added.push([item[0], item[1].filter((label): label is string => typeof label === 'string')]);
      }
    }
  }
  const windowSizes = Array.isArray(stored.windowSizes) ? stored.windowSizes.filter((size): size is number => typeof size === 'number') : [];
  return { added, windowSizes };
}

/** Everything one group commit writes, in one transaction. */
export interface EnforcementBatch {
  decisions: DecisionRecord[];
  violations: ViolationRecord[];
  holds: HoldRecord[];
  outputs: OutputRecord[];
  sessions: Array<{ tenantId: string; sessionId: string; agentId: string; state: string; updatedAt: number }>;
  /** Agent-wide histories (serialized `AgentHistory`), upserted per agent. */
  agents: Array<{ tenantId: string; agentId: string; state: string; updatedAt: number }>;
  counters: Array<{ tenantId: string; key: string; increment: number; expiresAt: number }>;
}

export interface DecisionQuery {
  from?: number | undefined;
  to?: number | undefined;
  agentId?: string | undefined;
  sessionId?: string | undefined;
  /** Keyset: rows strictly after this seq (ascending order). */
  afterSeq?: number | undefined;
  limit: number;
}

export interface DecisionRepository {
  /** Writes a batch atomically: nothing of it is visible unless all of it is. */
  writeBatch(batch: EnforcementBatch): Promise<void>;
  get(tenantId: string, id: string): Promise<StoredDecision | undefined>;
  /** Oldest first by seq within [from, to]. */
  list(tenantId: string, query: DecisionQuery): Promise<StoredDecision[]>;
  listViolations(tenantId: string, query: { limit: number; beforeSeq?: number | undefined }): Promise<Array<ViolationRecord & { seq: number }>>;
  /**
   * Outputs recorded in these sessions, oldest first by seq; with `until`, only those at or before that time. Any
   * number of sessions (read 500 at a time: SQLite refuses more than 32,766 bound values in one statement).
   */
  outputsForSessions(tenantId: string, sessionIds: readonly string[], until?: number): Promise<OutputRecord[]>;
  /**
   * Outputs returned to an agent (any session) at or after `since`, newest first (by time, then seq), at most `limit`;
   * `before` continues a previous page after its last row. What data-flow rules with `across: agent` read.
   */
  agentOutputs(tenantId: string, agentId: string, query: { since: number; before?: { ts: number; seq: number } | undefined; limit: number }): Promise<Array<OutputRecord & { seq: number }>>;
  loadSessionState(tenantId: string, sessionId: string): Promise<string | undefined>;
  /** The stored agent-wide history of an agent (serialized), if any. */
  loadAgentHistory(tenantId: string, agentId: string): Promise<string | undefined>;
  /**
   * Per agent and tool, the time of its latest call in [since, before) that was not blocked (seeds the agent-wide
   * histories of a replay; `since` bounds the scan to the longest agent-wide window).
   */
  lastAgentCallsBefore(tenantId: string, agentIds: readonly string[], since: number, before: number): Promise<Array<{ agentId: string; toolName: string; ts: number }>>;
  /**
   * Times of the agents' recorded violations in [`since`, `before`), at most `limit` (the most recent), for the
   * agent-wide progressive escalation of a replay.
   */
  agentViolationsBefore(tenantId: string, agentIds: readonly string[], since: number, before: number, limit: number): Promise<Array<{ agentId: string; ts: number }>>;
  /** Per session and tool, the time of its latest call before `before` that was not blocked (seeds replay). */
  lastCallsBefore(tenantId: string, sessionIds: readonly string[], before: number): Promise<Array<{ sessionId: string; toolName: string; ts: number }>>;
  loadCounters(tenantId: string, keys: readonly string[], now: number): Promise<Map<string, number>>;
  /** Deletes up to `limit` counters whose window ended at or before `now`; returns how many were deleted. */
  deleteExpiredCounters(now: number, limit?: number): Promise<number>;
}

/** Rows per multi-row INSERT (26 columns × 200 stays under both dialects' parameter limits). */
const CHUNK = 200;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += CHUNK) out.push(items.slice(start, start + CHUNK));
  return out;
}

/** Column values of one decision (shared with the SQLite fast path). */
export function decisionRow(record: DecisionRecord) {
  return {
    id: record.id, tenant_id: record.tenantId, ts: record.ts, agent_id: record.agentId, user_id: record.userId,
    session_id: record.sessionId, tool_name: record.toolName, call_id: record.callId, requested_mode: record.requestedMode,
    mode: record.mode, decision: record.decision, verdict: record.verdict, would_have_been: record.wouldHaveBeen,
    reason: record.reason, violation_id: record.violationId, severity: record.severity, hold_id: record.holdId,
    policy_id: record.policyId, policy_version: record.policyVersion, matched_rules: JSON.stringify(record.matchedRules),
    shadow: JSON.stringify(record.shadow), errors: JSON.stringify(record.errors),
    arguments: record.arguments === undefined ? null : JSON.stringify(record.arguments),
    approved_scope: record.approvedScope === null ? null : JSON.stringify(record.approvedScope),
    context: JSON.stringify(record.context ?? {}),
  };
}

function toDecision(row: Selectable<DecisionsTable>): StoredDecision {
  return {
    seq: Number(row.seq), id: row.id, tenantId: row.tenant_id, ts: Number(row.ts), agentId: row.agent_id, userId: row.user_id,
    sessionId: row.session_id, toolName: row.tool_name, callId: row.call_id, requestedMode: row.requested_mode, mode: row.mode,
    decision: row.decision, verdict: row.verdict, wouldHaveBeen: row.would_have_been, reason: row.reason,
    violationId: row.violation_id, severity: row.severity, holdId: row.hold_id, policyId: row.policy_id,
    policyVersion: row.policy_version === null ? null : Number(row.policy_version),
    matchedRules: parseJsonColumn(row.matched_rules) as string[], shadow: parseJsonColumn(row.shadow) as unknown[],
    errors: parseJsonColumn(row.errors) as unknown[], arguments: parseJsonColumn(row.arguments),
    approvedScope: parseJsonColumn(row.approved_scope) as string[] | null, context: parseJsonColumn(row.context),
  };
}

function toOutput(row: Selectable<DecisionOutputsTable>): OutputRecord {
  return {
    tenantId: row.tenant_id, decisionId: row.decision_id, agentId: row.agent_id, sessionId: row.session_id, toolName: row.tool_name,
    ts: Number(row.ts), decision: row.decision, reason: row.reason, taints: parseJsonColumn(row.taints),
  };
}

function toViolation(row: Selectable<ViolationsTable>): ViolationRecord & { seq: number } {
  return {
    seq: Number(row.seq), id: row.id, tenantId: row.tenant_id, decisionId: row.decision_id, ts: Number(row.ts),
    agentId: row.agent_id, userId: row.user_id, sessionId: row.session_id, toolName: row.tool_name, decision: row.decision,
    severity: row.severity, reason: row.reason, ruleIds: parseJsonColumn(row.rule_ids) as string[],
  };
}

async function writeAll(db: Kysely<Database>, batch: EnforcementBatch): Promise<void> {
  for (const rows of chunks(batch.decisions)) await db.insertInto('decisions').values(rows.map(decisionRow)).execute();
  for (const rows of chunks(batch.violations)) {
    await db.insertInto('violations').values(rows.map((v) => ({
      id: v.id, tenant_id: v.tenantId, decision_id: v.decisionId, ts: v.ts, agent_id: v.agentId, user_id: v.userId,
      session_id: v.sessionId, tool_name: v.toolName, decision: v.decision, severity: v.severity, reason: v.reason,
      rule_ids: JSON.stringify(v.ruleIds),
    }))).execute();
  }
  for (const rows of chunks(batch.holds)) await db.insertInto('holds').values(rows.map(holdToRow)).execute();
  for (const rows of chunks(batch.outputs)) {
    await db.insertInto('decision_outputs').values(rows.map((o) => ({
      tenant_id: o.tenantId, decision_id: o.decisionId, session_id: o.sessionId, tool_name: o.toolName, ts: o.ts,
      decision: o.decision, reason: o.reason, taints: JSON.stringify(o.taints), agent_id: o.agentId,
    }))).execute();
  }
  for (const rows of chunks(lastPerKey(batch.sessions, (s) => `${s.tenantId}\n${s.sessionId}`))) {
    await db.insertInto('enforcement_sessions')
      .values(rows.map((s) => ({ tenant_id: s.tenantId, session_id: s.sessionId, agent_id: s.agentId, state: s.state, updated_at: s.updatedAt })))
      .onConflict((conflict) => conflict.columns(['tenant_id', 'session_id']).doUpdateSet({
        state: (eb) => eb.ref('excluded.state'), updated_at: (eb) => eb.ref('excluded.updated_at'), agent_id: (eb) => eb.ref('excluded.agent_id'),
      }))
      .execute();
  }
  for (const rows of chunks(lastPerKey(batch.agents, (a) => `${a.tenantId}\n${a.agentId}`))) {
    await db.insertInto('enforcement_agent_histories')
      .values(rows.map((a) => ({ tenant_id: a.tenantId, agent_id: a.agentId, state: a.state, updated_at: a.updatedAt })))
      .onConflict((conflict) => conflict.columns(['tenant_id', 'agent_id']).doUpdateSet({
        state: (eb) => eb.ref('excluded.state'), updated_at: (eb) => eb.ref('excluded.updated_at'),
      }))
      .execute();
  }
  for (const rows of chunks(sumPerKey(batch.counters))) {
    await db.insertInto('rate_limit_counters')
      .values(rows.map((c) => ({ tenant_id: c.tenantId, counter_key: c.key, count: c.increment, expires_at: c.expiresAt })))
      .onConflict((conflict) => conflict.columns(['tenant_id', 'counter_key']).doUpdateSet({
        count: sql<number>`rate_limit_counters.count + excluded.count`,
      }))
      .execute();
  }
}

/** Keeps the last item per key (one upsert per session per batch). */
export function lastPerKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const map = new Map<string, T>();
  for (const item of items) map.set(keyOf(item), item);
  return [...map.values()];
}

/** Adds increments of the same counter (one upsert per counter per batch). */
export function sumPerKey(counters: EnforcementBatch['counters']): EnforcementBatch['counters'] {
  const map = new Map<string, EnforcementBatch['counters'][number]>();
  for (const counter of counters) {
    const key = `${counter.tenantId}\n${counter.key}`;
    const seen = map.get(key);
    map.set(key, seen ? { ...seen, increment: seen.increment + counter.increment } : { ...counter });
  }
  return [...map.values()];
}

/**
 * Decisions, violations, outputs, session state and rate counters (migration 0002), over both dialects.
 *
 * @example
 * const decisions = createDecisionRepository(db, 'sqlite');
 */
export function createDecisionRepository(db: Kysely<Database>, _dialect: Dialect): DecisionRepository {
  return {
    async writeBatch(batch) {
      if (db.isTransaction) await writeAll(db, batch);
      else await db.transaction().execute((trx) => writeAll(trx, batch));
    },
    async get(tenantId, id) {
      const row = await db.selectFrom('decisions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row ? toDecision(row) : undefined;
    },
    async list(tenantId, query) {
      let select = db.selectFrom('decisions').selectAll().where('tenant_id', '=', tenantId);
      if (query.from !== undefined) select = select.where('ts', '>=', query.from);
      if (query.to !== undefined) select = select.where('ts', '<=', query.to);
      if (query.agentId !== undefined) select = select.where('agent_id', '=', query.agentId);
      if (query.sessionId !== undefined) select = select.where('session_id', '=', query.sessionId);
      if (query.afterSeq !== undefined) select = select.where('seq', '>', query.afterSeq);
      const rows = await select.orderBy('seq', 'asc').limit(query.limit).execute();
      return rows.map(toDecision);
    },
    async listViolations(tenantId, query) {
      let select = db.selectFrom('violations').selectAll().where('tenant_id', '=', tenantId);
      if (query.beforeSeq !== undefined) select = select.where('seq', '<', query.beforeSeq);
      return (await select.orderBy('seq', 'desc').limit(query.limit).execute()).map(toViolation);
    },
    async outputsForSessions(tenantId, sessionIds, until) {
      const found: Array<{ seq: number; output: OutputRecord }> = [];
      for (let start = 0; start < sessionIds.length; start += 500) {
        let select = db.selectFrom('decision_outputs').selectAll().where('tenant_id', '=', tenantId)
          .where('session_id', 'in', sessionIds.slice(start, start + 500));
        if (until !== undefined) select = select.where('ts', '<=', until);
        for (const row of await select.execute()) found.push({ seq: Number(row.seq), output: toOutput(row) });
      }
      return found.sort((a, b) => a.seq - b.seq).map((entry) => entry.output);
    },
    async agentOutputs(tenantId, agentId, query) {
      let select = db.selectFrom('decision_outputs').selectAll().where('tenant_id', '=', tenantId).where('agent_id', '=', agentId)
        .where('ts', '>=', query.since);
      const before = query.before;
      if (before !== undefined) {
        select = select.where((eb) => eb.or([eb('ts', '<', before.ts), eb.and([eb('ts', '=', before.ts), eb('seq', '<', before.seq)])]));
      }
      const rows = await select.orderBy('ts', 'desc').orderBy('seq', 'desc').limit(query.limit).execute();
      return rows.map((row) => ({ ...toOutput(row), seq: Number(row.seq) }));
    },
    async loadSessionState(tenantId, sessionId) {
      const row = await db.selectFrom('enforcement_sessions').select('state').where('tenant_id', '=', tenantId)
        .where('session_id', '=', sessionId).executeTakeFirst();
      return row?.state;
    },
    async loadAgentHistory(tenantId, agentId) {
      const row = await db.selectFrom('enforcement_agent_histories').select('state').where('tenant_id', '=', tenantId)
        .where('agent_id', '=', agentId).executeTakeFirst();
      return row?.state;
    },
    async lastAgentCallsBefore(tenantId, agentIds, since, before) {
      const found: Array<{ agentId: string; toolName: string; ts: number }> = [];
      for (let start = 0; start < agentIds.length; start += 500) {
        const rows = await db.selectFrom('decisions')
          .select((eb) => ['agent_id', 'tool_name', eb.fn.max('ts').as('last_ts')])
          .where('tenant_id', '=', tenantId).where('ts', '>=', since).where('ts', '<', before)
          .where('agent_id', 'in', agentIds.slice(start, start + 500)).where('decision', '!=', 'BLOCK')
          .groupBy(['agent_id', 'tool_name']).execute();
        for (const row of rows) found.push({ agentId: row.agent_id, toolName: row.tool_name, ts: Number(row.last_ts) });
      }
      return found;
    },
    async agentViolationsBefore(tenantId, agentIds, since, before, limit) {
      const found: Array<{ agentId: string; ts: number }> = [];
      for (let start = 0; start < agentIds.length && found.length < limit; start += 500) {
        const rows = await db.selectFrom('decisions').select(['agent_id', 'ts'])
          .where('tenant_id', '=', tenantId).where('ts', '>=', since).where('ts', '<', before)
          .where('agent_id', 'in', agentIds.slice(start, start + 500)).where('violation_id', 'is not', null)
          .orderBy('ts', 'desc').limit(limit - found.length).execute();
        for (const row of rows) found.push({ agentId: row.agent_id, ts: Number(row.ts) });
      }
      return found;
    },
    async lastCallsBefore(tenantId, sessionIds, before) {
      const found: Array<{ sessionId: string; toolName: string; ts: number }> = [];
      for (let start = 0; start < sessionIds.length; start += 500) {
        const rows = await db.selectFrom('decisions')
          .select((eb) => ['session_id', 'tool_name', eb.fn.max('ts').as('last_ts')])
          .where('tenant_id', '=', tenantId).where('session_id', 'in', sessionIds.slice(start, start + 500))
          .where('ts', '<', before).where('decision', '!=', 'BLOCK')
          .groupBy(['session_id', 'tool_name']).execute();
        for (const row of rows) found.push({ sessionId: row.session_id, toolName: row.tool_name, ts: Number(row.last_ts) });
      }
      return found;
    },
    async loadCounters(tenantId, keys, now) {
      const counts = new Map<string, number>();
      if (keys.length === 0) return counts;
      const rows = await db.selectFrom('rate_limit_counters').select(['counter_key', 'count']).where('tenant_id', '=', tenantId)
        .where('counter_key', 'in', [...keys]).where('expires_at', '>', now).execute();
      for (const row of rows) counts.set(row.counter_key, Number(row.count));
      return counts;
    },
    async deleteExpiredCounters(now, limit = 2_000) {
      const expired = await db.selectFrom('rate_limit_counters').select(['tenant_id', 'counter_key']).where('expires_at', '<=', now)
        .limit(limit).execute();
      let deleted = 0;
      for (const group of chunks(expired)) {
        const result = await db.deleteFrom('rate_limit_counters').where('expires_at', '<=', now)
          .where((eb) => eb.or(group.map((row) => eb.and([eb('tenant_id', '=', row.tenant_id), eb('counter_key', '=', row.counter_key)]))))
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
    },
  };
}
