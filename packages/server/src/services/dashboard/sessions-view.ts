import { TollgateError } from '@tollgate/core';
import { sql } from 'kysely';
import type { Store } from '../../store/index.js';

export interface SessionsQuery {
  agentId?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

export interface SessionView {
  sessionId: string;
  agentId: string;
  userId: string;
  calls: number;
  blocked: number;
  firstAt: string;
  lastAt: string;
}

function encodeSessionCursor(lastTs: number, sessionId: string): string {
  return Buffer.from(JSON.stringify([lastTs, sessionId])).toString('base64url');
}

function decodeSessionCursor(cursor: string | undefined): { lastTs: number; sessionId: string } | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return { lastTs: value[0] as number, sessionId: value[1] };
    }
  } catch {
    // fall through
  }
  throw new TollgateError('VALIDATION_FAILED', 'cursor is not a cursor this server issued', { details: [{ field: 'querystring/cursor' }] });
}

/**
 * Sessions seen in the events table, most recently active first, with call and block counts.
 * Aggregates in the database (one GROUP BY over the tenant's, or the agent's, index range).
 *
 * @example
 * const { sessions, nextCursor } = await listSessions(store, 'acme', { limit: 50 });
 */
export async function listSessions(store: Store, tenantId: string, query: SessionsQuery) {
  const after = decodeSessionCursor(query.cursor);
  let select = store.db
    .selectFrom('events')
    .select((eb) => [
      'session_id',
      eb.fn.max('agent_id').as('agent_id'),
      eb.fn.max('user_id').as('user_id'),
      sql<number>`sum(case when event_type = 'TOOL_CALL_POST' then 1 else 0 end)`.as('calls'),
      sql<number>`sum(case when outcome = 'blocked' then 1 else 0 end)`.as('blocked'),
      eb.fn.min('ts').as('first_ts'),
      eb.fn.max('ts').as('last_ts'),
    ])
    .where('tenant_id', '=', tenantId);
  if (query.agentId) select = select.where('agent_id', '=', query.agentId);
  let grouped = select.groupBy('session_id');
  if (after) {
    grouped = grouped.having((eb) =>
      eb.or([
        eb(eb.fn.max('ts'), '<', after.lastTs),
        eb.and([eb(eb.fn.max('ts'), '=', after.lastTs), eb('session_id', '<', after.sessionId)]),
      ]),
    );
  }
  const rows = await grouped
    .orderBy(sql`max(ts)`, 'desc')
    .orderBy('session_id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    sessions: page.map(
      (row): SessionView => ({
        sessionId: row.session_id,
        agentId: String(row.agent_id),
        userId: String(row.user_id),
        calls: Number(row.calls),
        blocked: Number(row.blocked),
        firstAt: new Date(Number(row.first_ts)).toISOString(),
        lastAt: new Date(Number(row.last_ts)).toISOString(),
      }),
    ),
    nextCursor: rows.length > query.limit && last ? encodeSessionCursor(Number(last.last_ts), last.session_id) : null,
  };
}
