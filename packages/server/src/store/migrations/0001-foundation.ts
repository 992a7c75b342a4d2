import type { Migration } from './types.js';

/** Tenants and API keys. */
export const migration0001: Migration = {
  version: 1,
  name: 'foundation',
  sqlite: [
    `CREATE TABLE tenants (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       created_at INTEGER NOT NULL
     )`,
    `CREATE TABLE api_keys (
       id TEXT PRIMARY KEY,
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       name TEXT NOT NULL,
       secret_hash TEXT NOT NULL,
       scopes TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       expires_at INTEGER,
       revoked_at INTEGER,
       created_by TEXT
     )`,
    `CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at)`,
  ],
  postgres: [
    `CREATE TABLE tenants (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       created_at BIGINT NOT NULL
     )`,
    `CREATE TABLE api_keys (
       id TEXT PRIMARY KEY,
       tenant_id TEXT NOT NULL REFERENCES tenants(id),
       name TEXT NOT NULL,
       secret_hash TEXT NOT NULL,
       scopes TEXT NOT NULL,
       created_at BIGINT NOT NULL,
       expires_at BIGINT,
       revoked_at BIGINT,
       created_by TEXT
     )`,
    `CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at)`,
  ],
};
