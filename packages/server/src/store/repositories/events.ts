import { sql } from 'kysely';
import type { Generated, Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

/** Row of the `events` table (migration 0004). */
export interface EventsTable {
  seq: Generated<number>;
  tenant_id: string;
  event_id: string;
  event_type: string;
  source_type: string;
  agent_id: string;
  user_id: string;
  session_id: string;
  tool_name: string;
  call_id: string;
  decision_id: string | null;
  ts: number;
  received_at: number;
  duration_ms: number | null;
  outcome: string | null;
  redaction: string;
  /** JSON text. */
  arguments: string | null;
  /** JSON text. */
  result: string | null;
  error: string | null;
}

/**
 * Row of `event_sessions` (migrations 0015, 0016): one per agent and SDK session, kept up to date as events are
 * stored. Per agent, so one agent's events (an `events:write` key restricted to it) cannot change another agent's
 * summary by naming its session id.
 */
export interface EventSessionsTable {
  tenant_id: string;
  agent_id: string;
  session_id: string;
  /** The largest user id seen in this agent's session (sessions normally have one). */
  user_id: string;
  /** TOOL_CALL_POST events. */
  calls: number;
  /** Events with outcome `blocked`. */
  blocked: number;
  first_ts: number;
  last_ts: number;
}

declare module '../schema.js' {
  interface Database {
    events: EventsTable;
    event_sessions: EventSessionsTable;
  }
}

/** One stored behavioural event. `seq` is the server's insertion order, `ts` the SDK's timestamp (ms). */
export interface StoredEvent {
  seq: number;
  tenantId: string;
  eventId: string;
  eventType: string;
  sourceType: string;
  agentId: string;
  userId: string;
  sessionId: string;
  toolName: string;
  callId: string;
  decisionId: string | null;
  ts: number;
  receivedAt: number;
  durationMs: number | null;
  outcome: string | null;
  redaction: string;
  arguments: unknown;
  result: unknown;
  error: string | null;
}

/** An event to insert (no `seq` yet). */
export type NewEvent = Omit<StoredEvent, 'seq'>;

/** Filters and keyset position of a page (newest first). */
export interface EventPageQuery {
  sessionId?: string | undefined;
  agentId?: string | undefined;
  /** Return events strictly older than this (ts, seq) position. */
  before?: { ts: number; seq: number } | undefined;
  limit: number;
}

/** Position in the sessions list: the last row of the previous page. */
export interface SessionKeyset {
  lastTs: number;
  sessionId: string;
  agentId?: string | undefined;
}

export interface EventRepository {
  /**
   * Inserts events, skipping those whose (tenant, eventId) already exists, and updates their sessions' summaries in
   * the same transaction. Returns how many were new.
   */
  insertMany(tenantId: string, events: readonly NewEvent[]): Promise<number>;
  /**
   * Session summaries (one per agent and session), most recently active first (by last event time, then session id,
   * then agent id, descending), after the keyset `after` (without `agentId` in it: after every agent of that session
   * and time, as cursors issued before migration 0016 meant); with `agentId`, the sessions of that agent. One index
   * range, whatever the number of events.
   */
  sessions(tenantId: string, query: { agentId?: string | undefined; after?: SessionKeyset | undefined; limit: number }): Promise<EventSessionsTable[]>;
  /** Newest first by (ts, seq); at most `limit` rows. */
  page(tenantId: string, query: EventPageQuery): Promise<StoredEvent[]>;
  /**
   * Like {@link page}, but stops before the row that would take the stored text (arguments, result, error) of the
   * page above `maxBytes` (always at least one row); `more` says whether rows remain after the page. The sizes are
   * read first, so rows past the budget are never loaded.
   */
  pageWithin(tenantId: string, query: EventPageQuery & { maxBytes: number }): Promise<{ events: StoredEvent[]; more: boolean }>;
  /** How many events with this id are stored for the tenant (0 or 1; used by tests and audits). */
  countById(tenantId: string, eventId: string): Promise<number>;
}

/** Rows per INSERT statement: 19 columns × 500 stays under SQLite's and PostgreSQL's parameter limits. */
const INSERT_CHUNK = 500;

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toEvent(row: Selectable<EventsTable>): StoredEvent {
  return {
    seq: Number(row.seq),
    tenantId: row.tenant_id,
    eventId: row.event_id,
    eventType: row.event_type,
    sourceType: row.source_type,
    agentId: row.agent_id,
    userId: row.user_id,
    sessionId: row.session_id,
    toolName: row.tool_name,
    callId: row.call_id,
    decisionId: row.decision_id,
    ts: Number(row.ts),
    receivedAt: Number(row.received_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    outcome: row.outcome,
    redaction: row.redaction,
    arguments: parseJson(row.arguments),
    result: parseJson(row.result),
    error: row.error,
  };
}

function toRow(tenantId: string, event: NewEvent) {
  return {
    tenant_id: tenantId,
    event_id: event.eventId,
    event_type: event.eventType,
    source_type: event.sourceType,
    agent_id: event.agentId,
    user_id: event.userId,
    session_id: event.sessionId,
    tool_name: event.toolName,
    call_id: event.callId,
    decision_id: event.decisionId,
    ts: event.ts,
    received_at: event.receivedAt,
    duration_ms: event.durationMs,
    outcome: event.outcome,
    redaction: event.redaction,
    arguments: event.arguments === undefined ? null : JSON.stringify(event.arguments),
    result: event.result === undefined ? null : JSON.stringify(event.result),
    error: event.error,
  };
}

/** Session summaries upserted per statement (8 values each). */
const SUMMARY_CHUNK = 500;

/** Adds one stored event to its agent's session summary of this write. */
function summarizeInto(sessions: Map<string, EventSessionsTable>, tenantId: string, row: { session_id: string; agent_id: string; user_id: string; event_type: string; outcome: string | null; ts: number }): void {
  const ts = Number(row.ts);
  const call = row.event_type === 'TOOL_CALL_POST' ? 1 : 0;
  const blocked = row.outcome === 'blocked' ? 1 : 0;
  const key = JSON.stringify([row.agent_id, row.session_id]);
  const summary = sessions.get(key);
  if (summary === undefined) {
    sessions.set(key, { tenant_id: tenantId, agent_id: row.agent_id, session_id: row.session_id, user_id: row.user_id, calls: call, blocked, first_ts: ts, last_ts: ts });
    return;
  }
  summary.calls += call;
  summary.blocked += blocked;
  summary.first_ts = Math.min(summary.first_ts, ts);
  summary.last_ts = Math.max(summary.last_ts, ts);
  if (row.user_id > summary.user_id) summary.user_id = row.user_id;
}

/** Adds this write's counts to stored summaries (same arithmetic as the migration's backfill: sums, min, max). */
async function upsertSummaries(trx: Kysely<Database>, summaries: readonly EventSessionsTable[]): Promise<void> {
  const larger = <T>(column: string) => sql.raw<T>(`CASE WHEN excluded.${column} > event_sessions.${column} THEN excluded.${column} ELSE event_sessions.${column} END`);
  await trx
    .insertInto('event_sessions')
    .values([...summaries])
    .onConflict((conflict) => conflict.columns(['tenant_id', 'agent_id', 'session_id']).doUpdateSet({
      calls: sql`event_sessions.calls + excluded.calls`,
      blocked: sql`event_sessions.blocked + excluded.blocked`,
      first_ts: sql`CASE WHEN excluded.first_ts < event_sessions.first_ts THEN excluded.first_ts ELSE event_sessions.first_ts END`,
      last_ts: larger<number>('last_ts'),
      user_id: larger<string>('user_id'),
    }))
    .execute();
}

/**
 * Event repository over both dialects. Deduplication relies on the unique index and
 * `ON CONFLICT DO NOTHING`, so concurrent replicas receiving the same batch still store it once.
 *
 * @example
 * const events = createEventRepository(db, 'sqlite');
 */
export function createEventRepository(db: Kysely<Database>, _dialect: Dialect): EventRepository {
  /** The tenant's events matching the filters, older than `before`, newest first (columns still to choose). */
  const pageQuery = (tenantId: string, query: EventPageQuery) => {
    let select = db.selectFrom('events').where('tenant_id', '=', tenantId);
    if (query.sessionId !== undefined) select = select.where('session_id', '=', query.sessionId);
    if (query.agentId !== undefined) select = select.where('agent_id', '=', query.agentId);
    const before = query.before;
    if (before) {
      // Row-value comparison: both SQLite and PostgreSQL turn it into one range scan of the (…, ts, seq) index.
      select = select.where((eb) => eb(eb.refTuple('ts', 'seq'), '<', eb.tuple(before.ts, before.seq)));
    }
    return select.orderBy('ts', 'desc').orderBy('seq', 'desc');
  };
  return {
    async insertMany(tenantId, events) {
      // Events and their sessions' summaries in one transaction: a summary counts exactly the events stored (a
      // re-sent event is skipped by the unique index and returns no row).
      const write = async (trx: Kysely<Database>): Promise<number> => {
        const sessions = new Map<string, EventSessionsTable>();
        let inserted = 0;
        for (let start = 0; start < events.length; start += INSERT_CHUNK) {
          const rows = events.slice(start, start + INSERT_CHUNK).map((event) => toRow(tenantId, event));
          const stored = await trx
            .insertInto('events')
            .values(rows)
            .onConflict((conflict) => conflict.columns(['tenant_id', 'event_id']).doNothing())
            .returning(['session_id', 'agent_id', 'user_id', 'event_type', 'outcome', 'ts'])
            .execute();
          inserted += stored.length;
          for (const row of stored) summarizeInto(sessions, tenantId, row);
        }
        const summaries = [...sessions.values()];
        for (let start = 0; start < summaries.length; start += SUMMARY_CHUNK) await upsertSummaries(trx, summaries.slice(start, start + SUMMARY_CHUNK));
        return inserted;
      };
      return db.isTransaction ? write(db) : db.transaction().execute(write);
    },
    async sessions(tenantId, query) {
      let select = db.selectFrom('event_sessions').selectAll().where('tenant_id', '=', tenantId);
      if (query.agentId !== undefined) select = select.where('agent_id', '=', query.agentId);
      const after = query.after;
      if (after !== undefined) {
        select = select.where((eb) => eb.or([
          eb('last_ts', '<', after.lastTs),
          eb.and([eb('last_ts', '=', after.lastTs), eb('session_id', '<', after.sessionId)]),
          ...(after.agentId === undefined ? [] : [eb.and([eb('last_ts', '=', after.lastTs), eb('session_id', '=', after.sessionId), eb('agent_id', '<', after.agentId)])]),
        ]));
      }
      const rows = await select.orderBy('last_ts', 'desc').orderBy('session_id', 'desc').orderBy('agent_id', 'desc').limit(query.limit).execute();
      return rows.map((row) => ({ ...row, calls: Number(row.calls), blocked: Number(row.blocked), first_ts: Number(row.first_ts), last_ts: Number(row.last_ts) }));
    },
    async page(tenantId, query) {
      const rows = await pageQuery(tenantId, query).selectAll().limit(query.limit).execute();
      return rows.map(toEvent);
    },
    async pageWithin(tenantId, query) {
      const sizes = await pageQuery(tenantId, query)
        .select(['seq', sql<number>`coalesce(length(arguments), 0) + coalesce(length(result), 0) + coalesce(length(error), 0)`.as('bytes')])
        .limit(query.limit + 1)
        .execute();
      const seqs: number[] = [];
      let bytes = 0;
      for (const row of sizes.slice(0, query.limit)) {
        bytes += Number(row.bytes);
        if (seqs.length > 0 && bytes > query.maxBytes) break;
        seqs.push(Number(row.seq));
      }
      if (seqs.length === 0) return { events: [], more: false };
      const rows = await db.selectFrom('events').selectAll().where('tenant_id', '=', tenantId).where('seq', 'in', seqs)
        .orderBy('ts', 'desc').orderBy('seq', 'desc').execute();
      return { events: rows.map(toEvent), more: sizes.length > seqs.length };
    },
    async countById(tenantId, eventId) {
      const row = await db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('tenant_id', '=', tenantId)
        .where('event_id', '=', eventId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
