import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxSupervisor } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// The supervisor must not trust its workers to stop: these use a stand-in worker that hangs, exits or throws.
let sandbox: SandboxSupervisor;
beforeAll(async () => {
  sandbox = new SandboxSupervisor({
    maxWorkers: 1, deadlineGraceMs: 50, killGraceMs: 50,
    workerEntry: new URL('./fixtures/misbehaving-worker.mjs', import.meta.url),
  });
  await sandbox.start();
});
afterAll(async () => { await sandbox.close(); });

describe('supervisor defences against a misbehaving worker', () => {
  it('terminates a worker that ignores its deadline and replaces it', async () => {
    const result = await runCode(sandbox, 'hang', { cpu_time_limit_ms: 100 });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'TIMEOUT' } });
    expect(result.error?.message).toMatch(/terminated/);
    expect((await runCode(sandbox, 'fine')).output).toBe('ok');
  });

  it('kills a worker thread that never yields', async () => {
    const pending = runCode(sandbox, 'hang', { cpu_time_limit_ms: 60_000 }, { executionId: 'hung' });
    await new Promise((r) => setTimeout(r, 50));
    expect(sandbox.kill('hung', 'stuck')).toBe(true);
    expect(await pending).toMatchObject({ status: 'killed', error: { message: 'execution was killed: stuck' } });
    expect((await runCode(sandbox, 'fine')).output).toBe('ok');
  });

  it('terminates a worker whose published memory passes the limit (parent watchdog)', async () => {
    const result = await runCode(sandbox, 'grow', { memory_limit_mb: 64, cpu_time_limit_ms: 60_000 });
    expect(result).toMatchObject({ status: 'terminated', error: { code: 'MEMORY_LIMIT' } });
    expect((await runCode(sandbox, 'fine')).output).toBe('ok');
  });

  it.each([['exits', 'exit'], ['throws an uncaught error', 'throw']])('reports WORKER_CRASHED when the worker %s, then serves again', async (_name, code) => {
    const result = await runCode(sandbox, code);
    expect(result).toMatchObject({ status: 'terminated', was_terminated: true, error: { code: 'WORKER_CRASHED' } });
    expect((await runCode(sandbox, 'fine')).output).toBe('ok');
  });
});

describe('start-up', () => {
  it('refuses to start with a missing worker file and says how to fix it', async () => {
    const broken = new SandboxSupervisor({ workerEntry: new URL('./fixtures/no-such-worker.mjs', import.meta.url) });
    await expect(broken.start()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/npm run build/) });
    await broken.close();
  });
});
