// End to end through the built CLI (npm test builds first): first start prints the URL and a one-time admin key,
// SIGTERM exits cleanly, a restart keeps tenants and keys and prints no new key; bad settings name the variable.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../dist/bin.js');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function serve(dataDir: string, env: Record<string, string> = {}): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir], {
      env: { ...process.env, DATABASE_URL: '', TOLLGATE_ADMIN_KEY: '', TOLLGATE_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Tollgate listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) resolve({ child, url: match[1], output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('tollgate serve', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('first start prints a working admin key; SIGTERM exits 0; restart keeps tenants and keys', { timeout: 60_000 }, async () => {
    const first = await serve(dataDir);
    await expect.poll(() => first.output(), { timeout: 5_000 }).toMatch(/tg_live_/);
    const adminKey = /(tg_live_[a-z0-9]+_[A-Za-z0-9]+)/.exec(first.output())?.[1];
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const tenant = await fetch(`${first.url}/api/v1/tenants`, { method: 'POST', headers, body: JSON.stringify({ id: 'acme' }) });
    expect(tenant.status).toBe(201);
    const created = await (await fetch(`${first.url}/api/v1/keys`, { method: 'POST', headers, body: JSON.stringify({ scopes: ['enforce'], tenantId: 'acme' }) })).json();
    expect(await stop(first.child)).toBe(0);

    const second = await serve(dataDir);
    try {
      expect(second.output()).not.toContain('tg_live_');
      const whoami = await fetch(`${second.url}/api/v1/auth/whoami`, { headers: { 'x-api-key': created.secret } });
      expect(await whoami.json()).toMatchObject({ tenantId: 'acme', scopes: ['enforce'] });
      const tenants = await (await fetch(`${second.url}/api/v1/tenants`, { headers })).json();
      expect(tenants.tenants.map((t: { id: string }) => t.id)).toEqual(['acme', 'default']);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  });

  it('TOLLGATE_ADMIN_KEY sets the first admin key instead of generating one', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-key-'));
    const key = `tg_live_deploy00000000_${'k'.repeat(48)}`;
    const started = await serve(dir, { TOLLGATE_ADMIN_KEY: key });
    try {
      expect(started.output()).not.toContain('First start');
      const res = await fetch(`${started.url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    } finally {
      await stop(started.child);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a bad setting stops start-up with a message naming the variable', async () => {
    const result = await run(['serve', '--data-dir', dataDir], { TOLLGATE_PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TOLLGATE_PORT');
    const flag = await run(['serve', '--port', '99999', '--data-dir', dataDir]);
    expect(flag.stderr).toContain('--port');
  });

  it('keys create / list / revoke work on the database from the command line', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-keys-'));
    try {
      expect((await run(['migrate', '--data-dir', dir])).stdout).toContain('Applied migrations');
      expect((await run(['tenants', 'create', 'team-x', '--data-dir', dir])).code).toBe(0);
      const created = await run(['keys', 'create', '--tenant', 'team-x', '--scopes', 'enforce,audit:read', '--expires', '30d', '--data-dir', dir]);
      expect(created.code).toBe(0);
      const id = /Created key ([a-z0-9]+)/.exec(created.stdout)?.[1];
      expect(created.stdout).toMatch(/tg_live_[a-z0-9]+_[A-Za-z0-9]+/);
      const listed = await run(['keys', 'list', '--tenant', 'team-x', '--data-dir', dir]);
      expect(listed.stdout).toContain(`${id}\tactive\tenforce,audit:read`);
      expect((await run(['keys', 'revoke', String(id), '--tenant', 'team-x', '--data-dir', dir])).code).toBe(0);
      expect((await run(['keys', 'list', '--tenant', 'team-x', '--data-dir', dir])).stdout).toContain(`${id}\trevoked`);
      const bad = await run(['keys', 'create', '--tenant', 'team-x', '--scopes', 'root', '--data-dir', dir]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('Unknown scope');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
