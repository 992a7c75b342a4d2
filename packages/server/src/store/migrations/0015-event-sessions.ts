import type { Migration } from './types.js';

// One row per SDK session (`event_sessions`), kept up to date as events are stored, for the dashboard's sessions
// list. It grouped every event of the tenant on every page (732 ms a page at 1,000,000 events, on the event loop on
// SQLite); the list now reads a page of this table by its (tenant, last activity) index. Filled from the events
// stored before this migration.
const table = (bigint: string) => `CREATE TABLE event_sessions (
   tenant_id TEXT NOT NULL,
   session_id TEXT NOT NULL,
   agent_id TEXT NOT NULL,
   user_id TEXT NOT NULL,
   calls ${bigint} NOT NULL,
   blocked ${bigint} NOT NULL,
   first_ts ${bigint} NOT NULL,
   last_ts ${bigint} NOT NULL,
   PRIMARY KEY (tenant_id, session_id)
 )`;
const rest = [
  'CREATE INDEX event_sessions_tenant_last_idx ON event_sessions (tenant_id, last_ts, session_id)',
  'CREATE INDEX event_sessions_tenant_agent_last_idx ON event_sessions (tenant_id, agent_id, last_ts, session_id)',
  `INSERT INTO event_sessions (tenant_id, session_id, agent_id, user_id, calls, blocked, first_ts, last_ts)
   SELECT tenant_id, session_id, max(agent_id), max(user_id),
          sum(CASE WHEN event_type = 'TOOL_CALL_POST' THEN 1 ELSE 0 END), sum(CASE WHEN outcome = 'blocked' THEN 1 ELSE 0 END),
          min(ts), max(ts)
   FROM events GROUP BY tenant_id, session_id`,
];

/** Per-session summaries of SDK events (dashboard sessions list). */
export const migration0015: Migration = {
  version: 15,
  name: 'event-sessions',
  sqlite: [table('INTEGER'), ...rest],
  postgres: [table('BIGINT'), ...rest],
};
