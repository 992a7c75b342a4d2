import { TollgateError } from '@tollgate/core';
import type { Store } from '../../store/index.js';
import type { SessionKeyset } from '../../store/repositories/events.js';

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

// The agent id is part of the position since summaries are per agent (migration 0016): one session of two agents
// is two rows. A cursor without it (issued before) continues after every agent of that session.
function encodeSessionCursor(lastTs: number, sessionId: string, agentId: string): string {
  return Buffer.from(JSON.stringify([lastTs, sessionId, agentId])).toString('base64url');
}

function decodeSessionCursor(cursor: string | undefined): SessionKeyset | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && (value.length === 2 || (value.length === 3 && typeof value[2] === 'string'))) {
      return { lastTs: value[0] as number, sessionId: value[1], agentId: value[2] as string | undefined };
    }
  } catch {
    // fall through
  }
  throw new TollgateError('VALIDATION_FAILED', 'cursor is not a cursor this server issued', { details: [{ field: 'querystring/cursor' }] });
}

/**
 * Sessions seen in the events table (one entry per agent and session), most recently active first, with call and
 * block counts: one page of the per-session summaries kept as events are stored (`event_sessions`, migrations 0015 and 0016), read by its (tenant, last
 * activity) index, so a page costs the same with a thousand events or a hundred million. With `agentId`, the sessions
 * of that agent. Counts cover the session's whole life (retention removes a session's summary with its last events).
 *
 * @example
 * const { sessions, nextCursor } = await listSessions(store, 'acme', { limit: 50 });
 */
export async function listSessions(store: Store, tenantId: string, query: SessionsQuery) {
  const after = decodeSessionCursor(query.cursor);
  const rows = await store.events.sessions(tenantId, { agentId: query.agentId, after, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    sessions: page.map(
      (row): SessionView => ({
        sessionId: row.session_id,
        agentId: row.agent_id,
        userId: row.user_id,
        calls: row.calls,
        blocked: row.blocked,
        firstAt: new Date(row.first_ts).toISOString(),
        lastAt: new Date(row.last_ts).toISOString(),
      }),
    ),
    nextCursor: rows.length > query.limit && last ? encodeSessionCursor(last.last_ts, last.session_id, last.agent_id) : null,
  };
}
