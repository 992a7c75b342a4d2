import type { Migration } from './types.js';

// Session summaries per agent: `event_sessions` was keyed by (tenant, session), so a key restricted to agent Z,
// sending events with agent A's session id, changed A's row (its agent and user became the larger of both, Z's
// counts were added) and hid the session from A's filtered list. Keyed by (tenant, agent, session) now, each agent's
// events change only its own summary; a session used by several agents is listed once per agent.
//
// The table is rebuilt (SQLite cannot change a primary key). Summaries of sessions with one agent are copied as they
// are (their counts cover the session's whole life, also events retention has removed since); sessions whose stored
// events name several agents are summarized again from those events, per agent.
const table = (bigint: string) => `CREATE TABLE event_sessions_v2 (
   tenant_id TEXT NOT NULL,
   agent_id TEXT NOT NULL,
   session_id TEXT NOT NULL,
   user_id TEXT NOT NULL,
   calls ${bigint} NOT NULL,
   blocked ${bigint} NOT NULL,
   first_ts ${bigint} NOT NULL,
   last_ts ${bigint} NOT NULL,
   PRIMARY KEY (tenant_id, agent_id, session_id)
 )`;
const COLUMNS = 'tenant_id, agent_id, session_id, user_id, calls, blocked, first_ts, last_ts';
// The sessions whose events name several agents, found in one grouped pass over the session index (a correlated
// subquery per event would read a long session's events once per event).
const copy = [
  `CREATE TABLE event_sessions_shared AS
   SELECT tenant_id, session_id FROM events GROUP BY tenant_id, session_id HAVING min(agent_id) <> max(agent_id)`,
  `INSERT INTO event_sessions_v2 (${COLUMNS})
   SELECT ${COLUMNS} FROM event_sessions s
   WHERE NOT EXISTS (SELECT 1 FROM event_sessions_shared m WHERE m.tenant_id = s.tenant_id AND m.session_id = s.session_id)`,
  `INSERT INTO event_sessions_v2 (${COLUMNS})
   SELECT e.tenant_id, e.agent_id, e.session_id, max(e.user_id),
          sum(CASE WHEN e.event_type = 'TOOL_CALL_POST' THEN 1 ELSE 0 END), sum(CASE WHEN e.outcome = 'blocked' THEN 1 ELSE 0 END),
          min(e.ts), max(e.ts)
   FROM events e JOIN event_sessions_shared m ON m.tenant_id = e.tenant_id AND m.session_id = e.session_id
   GROUP BY e.tenant_id, e.agent_id, e.session_id`,
  'DROP TABLE event_sessions_shared',
  'DROP TABLE event_sessions',
  'ALTER TABLE event_sessions_v2 RENAME TO event_sessions',
];
const indexes = [
  'CREATE INDEX event_sessions_tenant_last_idx ON event_sessions (tenant_id, last_ts, session_id, agent_id)',
  'CREATE INDEX event_sessions_tenant_agent_last_idx ON event_sessions (tenant_id, agent_id, last_ts, session_id)',
];

/** Per-agent session summaries of SDK events (one agent's events cannot change another's). */
export const migration0016: Migration = {
  version: 16,
  name: 'event-session-agents',
  sqlite: [table('INTEGER'), ...copy, ...indexes],
  // PostgreSQL keeps the primary key's index name of the table it was created for.
  postgres: [table('BIGINT'), ...copy, 'ALTER INDEX event_sessions_v2_pkey RENAME TO event_sessions_pkey', ...indexes],
};
