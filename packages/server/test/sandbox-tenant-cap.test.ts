import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateApiKey, loadConfig, startTollgate, type RunningTollgate } from '../src/index.js';

// TOLLGATE_SANDBOX_MAX_RUNNING_PER_TENANT=0 (the default) is automatic: a single-tenant installation keeps every
// sandbox worker for its one tenant; from the second tenant on, one tenant may hold only half of them, so its long
// runs cannot take every worker from the others (docs/sandbox.md, "Limits").

let running: RunningTollgate | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function start(overrides: { sandboxMaxRunningPerTenant?: number } = {}): Promise<{ url: string; key: string; runtime: RunningTollgate['server']['services']['sandboxRuntime'] }> {
  dataDir = await mkdtemp(join(tmpdir(), 'tollgate-tenant-cap-'));
  const key = generateApiKey().token;
  running = await startTollgate({ config: loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey: key, logLevel: 'silent', ...overrides }) });
  return { url: running.url, key, runtime: running.server.services.sandboxRuntime };
}

async function createTenant(url: string, key: string, id: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/tenants`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
  expect(res.status).toBe(201);
}

const half = (workers: number): number => (workers > 1 ? Math.ceil(workers / 2) : 1);

describe('automatic per-tenant sandbox cap', () => {
  it('gives a single tenant every worker, and half of them once a second tenant is created', async () => {
    const { url, key, runtime } = await start();
    const workers = runtime.options.maxWorkers;
    expect(runtime.maxRunningPerTenant).toBe(workers);
    await createTenant(url, key, 'acme');
    expect(runtime.maxRunningPerTenant).toBe(half(workers));
  });

  it('counts the tenants already stored when it starts', async () => {
    const first = await start();
    await createTenant(first.url, first.key, 'acme');
    const kept = dataDir;
    await running?.close();
    running = undefined;
    dataDir = undefined;
    const key = generateApiKey().token;
    running = await startTollgate({ config: loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: kept!, adminKey: key, logLevel: 'silent' }) });
    dataDir = kept;
    const runtime = running.server.services.sandboxRuntime;
    expect(runtime.maxRunningPerTenant).toBe(half(runtime.options.maxWorkers));
  });

  it('uses a configured value as is, whatever the number of tenants', async () => {
    const { runtime } = await start({ sandboxMaxRunningPerTenant: 1 });
    expect(runtime.maxRunningPerTenant).toBe(1);
  });
});
