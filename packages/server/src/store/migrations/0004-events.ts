import type { Migration } from './types.js';

/**
 * Behavioural events from the SDK (`POST /v1/events/batch`). Stored exactly once: the unique index on
 * (tenant_id, event_id) makes a re-sent batch a no-op. The list indexes end in (ts, seq) so the
 * dashboard pages 100,000+ events by keyset (newest first) per tenant, session or agent.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'events',
  sqlite: [
    `CREATE TABLE events (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       event_id TEXT NOT NULL,
       event_type TEXT NOT NULL,
       source_type TEXT NOT NULL,
       agent_id TEXT NOT NULL,
       user_id TEXT NOT NULL,
       session_id TEXT NOT NULL,
       tool_name TEXT NOT NULL,
       call_id TEXT NOT NULL,
       decision_id TEXT,
       ts INTEGER NOT NULL,
       received_at INTEGER NOT NULL,
       duration_ms REAL,
       outcome TEXT,
       redaction TEXT NOT NULL,
       arguments TEXT,
       result TEXT,
       error TEXT
     )`,
    `CREATE UNIQUE INDEX events_tenant_event_uidx ON events (tenant_id, event_id)`,
    `CREATE INDEX events_tenant_ts_idx ON events (tenant_id, ts, seq)`,
    `CREATE INDEX events_tenant_session_ts_idx ON events (tenant_id, session_id, ts, seq)`,
    `CREATE INDEX events_tenant_agent_ts_idx ON events (tenant_id, agent_id, ts, seq)`,
  ],
  postgres: [
    `CREATE TABLE events (
       seq BIGSERIAL PRIMARY KEY,
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       event_id TEXT NOT NULL,
       event_type TEXT NOT NULL,
       source_type TEXT NOT NULL,
       agent_id TEXT NOT NULL,
       user_id TEXT NOT NULL,
       session_id TEXT NOT NULL,
       tool_name TEXT NOT NULL,
       call_id TEXT NOT NULL,
       decision_id TEXT,
       ts BIGINT NOT NULL,
       received_at BIGINT NOT NULL,
       duration_ms DOUBLE PRECISION,
       outcome TEXT,
       redaction TEXT NOT NULL,
       arguments TEXT,
       result TEXT,
       error TEXT
     )`,
    `CREATE UNIQUE INDEX events_tenant_event_uidx ON events (tenant_id, event_id)`,
    `CREATE INDEX events_tenant_ts_idx ON events (tenant_id, ts, seq)`,
    `CREATE INDEX events_tenant_session_ts_idx ON events (tenant_id, session_id, ts, seq)`,
    `CREATE INDEX events_tenant_agent_ts_idx ON events (tenant_id, agent_id, ts, seq)`,
  ],
};
