import type { Migration } from './types.js';

type Sql = 'sqlite' | 'postgres';

// Dashboard sign-in sessions. The id is the SHA-256 of the cookie value, so a database leak does not
// hand out live sessions; the CSRF token is only useful together with the cookie.
function statements(dialect: Sql): string[] {
  const ts = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT';
  return [
    `CREATE TABLE dashboard_sessions (
       id TEXT PRIMARY KEY,
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       key_id TEXT NOT NULL,
       csrf_token TEXT NOT NULL,
       user_agent TEXT,
       created_at ${ts} NOT NULL,
       expires_at ${ts} NOT NULL,
       last_seen_at ${ts} NOT NULL,
       revoked_at ${ts}
     )`,
    `CREATE INDEX dashboard_sessions_key_idx ON dashboard_sessions (key_id)`,
    `CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at)`,
  ];
}

/** Dashboard sessions (httpOnly cookie sign-in with an admin API key). */
export const migration0007: Migration = {
  version: 7,
  name: 'dashboard',
  sqlite: statements('sqlite'),
  postgres: statements('postgres'),
};
