import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer, generateApiKey, loadConfig, migrateStore, openSqliteStore, publicRoute, startTollgate } from '../src/index.js';
import { createServer as createHttpServer } from 'node:http';

describe('graceful shutdown', () => {
  it('lets an in-flight request finish, refuses new work, then the database can be closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-drain-'));
    const store = openSqliteStore({ filename: join(dir, 'tollgate.db') });
    await migrateStore(store);
    const config = loadConfig({}, { port: 0, dataDir: dir, logLevel: 'silent', adminKey: generateApiKey().token });
    const server = await createServer({ config, store });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    server.app.get('/slow', { ...publicRoute() }, async () => {
      entered();
      await gate;
      return { done: true };
    });
    const url = await server.listen();
    const inflight = fetch(`${url}/slow`).then(async (res) => ({ status: res.status, body: await res.json() }));
    await inside;
    const closing = server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    release();
    expect(await inflight).toEqual({ status: 200, body: { done: true } });
    await closing;
    await store.close();
    expect(store.native.dialect === 'sqlite' && store.native.database.open).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('start-up failure', () => {
  it('a taken port fails start-up with the cause, leaving nothing running', async () => {
    const blocker = createHttpServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-port-'));
    try {
      const config = loadConfig({}, { port, host: '127.0.0.1', dataDir: dir, logLevel: 'silent' });
      await expect(startTollgate({ config })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
