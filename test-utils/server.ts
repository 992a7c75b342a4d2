import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateApiKey,
  loadConfig,
  startTollgate,
  type Clock,
  type RunningTollgate,
  type Services,
  type Store,
  type TollgateConfig,
  type TollgateServer,
} from '@tollgate/server';
import { createTestDatabase, type TestDatabase } from './postgres.js';

/** A tenant created for a test, with an admin key. */
export interface TestTenant {
  readonly id: string;
  readonly adminKey: string;
}

/** A real Tollgate listening on 127.0.0.1:<random port>. */
export interface TestServer {
  readonly url: string;
  readonly server: TollgateServer;
  readonly services: Services;
  readonly store: Store;
  readonly config: TollgateConfig;
  /** Admin key of tenant `default` (the operator: manages every tenant). */
  readonly systemAdminKey: string;
  readonly tenantA: TestTenant;
  readonly tenantB: TestTenant;
  /** Creates another tenant with an admin key. */
  createTenant(id: string): Promise<TestTenant>;
  /** JSON request helper: `await t.request('GET', '/api/v1/keys', { key })`. */
  request(method: string, path: string, options?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  /** Drains, closes the database, removes the temp dir / drops the test database. */
  close(): Promise<void>;
}

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** `sqlite` (default, temp dir) or a PostgreSQL admin URL (a fresh database is created and dropped). */
  readonly postgresUrl?: string | undefined;
  readonly config?: Partial<TollgateConfig>;
  readonly clock?: Clock;
}

/**
 * Starts a real server (port 0) on SQLite in a temp dir, or PostgreSQL in a fresh database, with tenants
 * `tenant-a` and `tenant-b` and an admin key for each.
 *
 * @example
 * const t = await startTestServer();
 * const res = await t.request('GET', '/api/v1/keys', { key: t.tenantA.adminKey });
 * await t.close();
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-test-'));
  let database: TestDatabase | undefined;
  if (options.postgresUrl) database = await createTestDatabase(options.postgresUrl);
  const systemAdminKey = generateApiKey().token;
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, databaseUrl: database?.url, adminKey: systemAdminKey, logLevel: 'silent', ...options.config });
  let running: RunningTollgate;
  try {
    running = await startTollgate({ config, ...(options.clock ? { clock: options.clock } : {}) });
  } catch (error) {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { services } = running.server;
  const createTenant = async (id: string): Promise<TestTenant> => {
    await services.tenants.create({ id, name: id });
    const { token } = await services.keys.create({ tenantId: id, scopes: ['admin'], name: `${id} admin` });
    return { id, adminKey: token };
  };
  const request: TestServer['request'] = async (method, path, requestOptions = {}) => {
    const headers: Record<string, string> = { ...requestOptions.headers };
    if (requestOptions.key) headers['authorization'] = `Bearer ${requestOptions.key}`;
    if (requestOptions.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${running.url}${path}`, { method, headers, ...(requestOptions.body === undefined ? {} : { body: JSON.stringify(requestOptions.body) }) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep text
    }
    return { status: response.status, body, headers: response.headers };
  };
  const tenantA = await createTenant('tenant-a');
  const tenantB = await createTenant('tenant-b');
  return {
    url: running.url,
    server: running.server,
    services,
    store: running.store,
    config,
    systemAdminKey,
    tenantA,
    tenantB,
    createTenant,
    request,
    async close() {
      await running.close();
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
