import { sql } from 'kysely';
import type { Store } from '../../store/index.js';
import { decodeCursor, encodeCursor, parseJsonText } from './cursor.js';

/** Largest page the dashboard asks for. */
export const MAX_CALLS_PAGE = 200;
/** A call's PRE event (with its arguments) is looked for this long before its POST event (covers step-up waits). */
const PRE_EVENT_WINDOW_MS = 60 * 60 * 1000;

export interface CallsQuery {
  sessionId?: string | undefined;
  agentId?: string | undefined;
  toolName?: string | undefined;
  outcome?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** One completed tool call: its POST event, the PRE event's arguments and the enforcement decision. */
export interface CallView {
  callId: string;
  sessionId: string;
  agentId: string;
  userId: string;
  toolName: string;
  decision: string | null;
  reason: string | null;
  violationId: string | null;
  outcome: string | null;
  durationMs: number | null;
  arguments: unknown;
  redaction: string;
  error: string | null;
  decisionId: string | null;
  timestamp: string;
}

/**
 * The query of one page of {@link listCalls} (exported for the test that reads its plan). `event_type` is a literal,
 * not a parameter: SQLite uses a partial index (migration 0017, `WHERE event_type = 'TOOL_CALL_POST'`) only when
 * the query states the same condition in its text.
 */
export function callsPageQuery(db: Store['db'], tenantId: string, query: CallsQuery) {
  const before = decodeCursor(query.cursor);
  let select = db
    .selectFrom('events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('event_type', '=', sql.lit('TOOL_CALL_POST'));
  if (query.sessionId) select = select.where('session_id', '=', query.sessionId);
  if (query.agentId) select = select.where('agent_id', '=', query.agentId);
  if (query.toolName) select = select.where('tool_name', '=', query.toolName);
  if (query.outcome) select = select.where('outcome', '=', query.outcome);
  if (before) {
    select = select.where((eb) => eb.or([eb('ts', '<', before.ts), eb.and([eb('ts', '=', before.ts), eb('seq', '<', before.seq)])]));
  }
  return select.orderBy('ts', 'desc').orderBy('seq', 'desc').limit(query.limit + 1);
}

/**
 * Tool calls for the Sessions page, newest first, keyset-paginated over the events table's
 * (tenant, [session|agent,] ts, seq) indexes so page 1 and page 2,000 cost the same.
 *
 * @example
 * const page = await listCalls(store, 'acme', { sessionId: 's-1', limit: 50 });
 */
export async function listCalls(store: Store, tenantId: string, query: CallsQuery) {
  const rows = await callsPageQuery(store.db, tenantId, query).execute();
  const page = rows.slice(0, query.limit);
  const [argumentsByCall, decisions] = await Promise.all([preArguments(store, tenantId, page), decisionsOf(store, tenantId, page)]);
  const last = page[page.length - 1];
  return {
    calls: page.map((row): CallView => {
      const decision = row.decision_id ? decisions.get(row.decision_id) : undefined;
      return {
        callId: row.call_id,
        sessionId: row.session_id,
        agentId: row.agent_id,
        userId: row.user_id,
        toolName: row.tool_name,
        decision: decision?.decision ?? null,
        reason: decision?.reason ?? null,
        violationId: decision?.violation_id ?? null,
        outcome: row.outcome,
        durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
        arguments: argumentsByCall.get(callKey(row.session_id, row.call_id)) ?? null,
        redaction: row.redaction,
        error: row.error,
        decisionId: row.decision_id,
        timestamp: new Date(Number(row.ts)).toISOString(),
      };
    }),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ ts: Number(last.ts), seq: Number(last.seq) }) : null,
  };
}

type EventRow = { session_id: string; call_id: string; ts: number };

/** Call ids come from the SDK and are unique only within a session (a framework may count 1, 2, …). */
const callKey = (sessionId: string, callId: string) => JSON.stringify([sessionId, callId]);

/**
 * Arguments live on the PRE event; fetch them for one page by session and a bounded time range, matched by
 * (session, call id) so two sessions' calls with the same id do not show each other's arguments.
 */
async function preArguments(store: Store, tenantId: string, page: readonly EventRow[]): Promise<Map<string, unknown>> {
  const result = new Map<string, unknown>();
  if (page.length === 0) return result;
  const sessions = [...new Set(page.map((row) => row.session_id))];
  const times = page.map((row) => Number(row.ts));
  const rows = await store.db
    .selectFrom('events')
    .select(['session_id', 'call_id', 'arguments'])
    .where('tenant_id', '=', tenantId)
    .where('session_id', 'in', sessions)
    .where('event_type', '=', 'TOOL_CALL_PRE')
    .where('ts', '>=', Math.min(...times) - PRE_EVENT_WINDOW_MS)
    .where('ts', '<=', Math.max(...times))
    .where('call_id', 'in', page.map((row) => row.call_id))
    .execute();
  for (const row of rows) result.set(callKey(row.session_id, row.call_id), parseJsonText(row.arguments));
  return result;
}

async function decisionsOf(store: Store, tenantId: string, page: readonly { decision_id: string | null }[]) {
  const ids = [...new Set(page.map((row) => row.decision_id).filter((id): id is string => id !== null))];
  const result = new Map<string, { decision: string; reason: string; violation_id: string | null }>();
  if (ids.length === 0) return result;
  const rows = await store.db
    .selectFrom('decisions')
    .select(['id', 'decision', 'reason', 'violation_id'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .execute();
  for (const row of rows) result.set(row.id, row);
  return result;
}
