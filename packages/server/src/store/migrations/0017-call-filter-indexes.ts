import type { Migration } from './types.js';

// The dashboard's calls list filters finished calls (`TOOL_CALL_POST` events) by tool and by outcome, newest first.
// The events table had indexes by time, session and agent only, so a filter matching few or no calls read every event
// of the tenant (0.3 s per million events on SQLite, on the event loop, repeatable by any `audit:read` key; session 13
// red team). Partial indexes over the finished calls only: the events a filter can return, half of all events.
const STATEMENTS = [
  "CREATE INDEX events_tenant_tool_post_idx ON events (tenant_id, tool_name, ts, seq) WHERE event_type = 'TOOL_CALL_POST'",
  "CREATE INDEX events_tenant_outcome_post_idx ON events (tenant_id, outcome, ts, seq) WHERE event_type = 'TOOL_CALL_POST'",
];

/** Indexes for the calls list's tool and outcome filters. */
export const migration0017: Migration = {
  version: 17,
  name: 'call-filter-indexes',
  sqlite: STATEMENTS,
  postgres: STATEMENTS,
};
