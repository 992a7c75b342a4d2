import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey, loadConfig, startTollgate, type RunningTollgate, type TollgateConfig as ServerConfig } from '@tollgate/server';
import { afterAll, describe, expect, it } from 'vitest';
import { TollgateClient, TollgateRuntime } from '../src/index.js';
import { createTestDatabase, postgresTestUrl, type TestDatabase } from '../../../test-utils/index.js';
import { SDK_TEST_POLICY, SDK_TEST_SCOPES } from './support/governed-server.js';

const CALLS = 60;
const RESTART_AT = 20;

async function startOn(config: ServerConfig): Promise<RunningTollgate> {
  return startTollgate({ config });
}

async function prepare(running: RunningTollgate): Promise<string> {
  await running.server.services.tenants.create({ id: 'restart-tenant', name: 'restart' });
  const { token } = await running.server.services.keys.create({ tenantId: 'restart-tenant', scopes: [...SDK_TEST_SCOPES, 'policies'] });
  const response = await fetch(`${running.url}/api/v1/policies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'sdk-tests', source: SDK_TEST_POLICY, activate: true }),
  });
  expect(response.status).toBe(201);
  return token;
}

async function storedEvents(url: string, key: string, sessionId: string): Promise<{ eventId: string }[]> {
  const all: { eventId: string }[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ sessionId, limit: '1000', ...(cursor ? { cursor } : {}) });
    const page = (await (await fetch(`${url}/api/v1/events?${params}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { events: { eventId: string }[]; nextCursor: string | null };
    all.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

function describeRestart(name: string, postgres: () => string | undefined) {
  describe(name, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it('stores every event exactly once although the server restarts while events stream', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-sdk-restart-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      let database: TestDatabase | undefined;
      const adminUrl = postgres();
      if (adminUrl) {
        database = await createTestDatabase(adminUrl);
        cleanups.push(() => database!.drop());
      }
      const base = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, databaseUrl: database?.url, adminKey: generateApiKey().token, logLevel: 'silent' });
      let running = await startOn(base);
      cleanups.push(() => running.close());
      const key = await prepare(running);
      const url = running.url;
      const port = Number(new URL(url).port);
      const sessionId = `restart-${crypto.randomUUID()}`;
      let ran = 0;
      // A runtime of its own, so the counters below belong to this test only.
      const runtime = new TollgateRuntime();
      const fns = new TollgateClient({ runtime }).wrapOpenAITools(
        { read_file: async (path: string) => { ran += 1; return `contents of ${path}`; } },
        { agentId: 'restart-agent', apiUrl: url, apiKey: key, sessionId, enforcement: 'observe', approvedScope: ['read_file'], logLevel: 'SILENT', events: { batchSize: 7, flushIntervalMs: 10, maxRetryDelayMs: 200 } },
      );
      for (let index = 0; index < CALLS; index += 1) {
        if (index === RESTART_AT) {
          await running.close();
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        if (index === RESTART_AT + 10) running = await startOn({ ...base, port });
        await fns.read_file(`/tmp/${index}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await runtime.flush(20_000)).toBe(true);
      expect(ran).toBe(CALLS);
      const events = await storedEvents(url, key, sessionId);
      expect(events).toHaveLength(CALLS * 2);
      expect(new Set(events.map((event) => event.eventId)).size).toBe(CALLS * 2);
      const stats = runtime.stats();
      expect(stats.dropped).toBe(0);
      expect(stats.failedAttempts).toBeGreaterThan(0);
      expect(stats.sent + stats.duplicates).toBeGreaterThanOrEqual(CALLS * 2);
    });
  });
}

describeRestart('events across a server restart (SQLite)', () => undefined);
const pgUrl = postgresTestUrl('sdk events restart');
describe.skipIf(!pgUrl)('PostgreSQL', () => describeRestart('events across a server restart (PostgreSQL)', () => pgUrl));
