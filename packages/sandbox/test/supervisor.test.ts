import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/index.js';
import type { SandboxSupervisor } from '../src/index.js';
import { runCode, testSupervisor } from './fixtures/harness.js';

let sandbox: SandboxSupervisor;
beforeAll(async () => { sandbox = testSupervisor(); await sandbox.start(); });
afterAll(async () => { await sandbox.close(); });

describe('seed entry code runs unchanged', () => {
  it('runs the Python quick start entry code (thetazero.log, write_result, input.name)', async () => {
    const result = await runCode(sandbox, [
      'await thetazero.log("Hello from the sandbox!");',
      'await thetazero.write_result({ message: "Hello, " + (input.name || "world") + "!" });',
    ].join('\n'));
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ message: 'Hello, Alice!' });
    expect(result.logs).toMatchObject([{ level: 'info', message: 'Hello from the sandbox!' }]);
    expect(result.resource_usage).toMatchObject({ api_calls: 0, host_calls: 2 });
    expect(result.host_call_audit.map((a) => [a.fn, a.allowed])).toEqual([['log', true], ['write_result', true]]);
    expect(result).toMatchObject({ violation_count: 0, was_terminated: false });
  });

  it('runs the seed REST example entry code', async () => {
    const result = await runCode(sandbox, 'await thetazero.write_result({ ok: true });');
    expect(result).toMatchObject({ status: 'completed', output: { ok: true } });
  });

  it('runs the full host API example with http_request and read_context', async () => {
    const code = `const tz = thetazero;
await tz.log("Starting execution", "info");
await tz.log(\`Agent: \${tz.agentName} v\${tz.agentVersion}\`);
const resp = await tz.http_request("https://api.example.com/data", "GET", { "Authorization": "Bearer token" });
await tz.log(\`Status: \${resp.status}\`);
const prevCount = await tz.read_context("run_count") ?? 0;
await tz.write_result({ processed: resp.body.items.length, run_number: prevCount + 1 });`;
    const seen: unknown[] = [];
    const result = await runCode(sandbox, code, { permissions: [...PERMISSIONS.CODER], allow_network: true }, {
      handlers: {
        http_request: async (request) => { seen.push(request); return { status: 200, headers: {}, body: { items: [1, 2, 3] } }; },
        read_context: async (key) => (key === 'run_count' ? 4 : null),
      },
    });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ processed: 3, run_number: 5 });
    expect(result.logs.map((l) => l.message)).toEqual(['Starting execution', 'Agent: test-agent v1.2.3', 'Status: 200']);
    expect(seen).toEqual([{ url: 'https://api.example.com/data', method: 'GET', headers: { Authorization: 'Bearer token' }, body: undefined }]);
    expect(result.resource_usage).toMatchObject({ api_calls: 2, host_calls: 6 });
    const http = result.host_call_audit.find((a) => a.fn === 'http_request');
    expect(http).toMatchObject({ allowed: true, args_summary: 'GET https://api.example.com/data' });
  });

  it('returns a value from entry code, which wins over write_result', async () => {
    const result = await runCode(sandbox, 'await tollgate.write_result(1); return { answer: 42 };');
    expect(result.output).toEqual({ answer: 42 });
  });

  it('keeps the last write_result when nothing is returned', async () => {
    const result = await runCode(sandbox, 'tollgate.write_result(1); tollgate.write_result({ last: true });');
    expect(result.output).toEqual({ last: true });
  });

  it('exposes executionId, agentName and agentVersion read-only', async () => {
    const result = await runCode(sandbox, 'tollgate.agentName = "x"; return [tollgate.agentName, tollgate.agentVersion, typeof tollgate.executionId, thetazero === tollgate];');
    expect(result.output).toEqual(['test-agent', '1.2.3', 'string', true]);
  });

  it('supports setTimeout inside the run', async () => {
    const result = await runCode(sandbox, 'return await new Promise((r) => setTimeout(() => r("later"), 20));');
    expect(result).toMatchObject({ status: 'completed', output: 'later' });
  });
});

describe('failures are results, not exceptions', () => {
  it('reports a thrown error as failed with its message', async () => {
    const result = await runCode(sandbox, 'throw new TypeError("bad thing")');
    expect(result).toMatchObject({ status: 'failed', error: { code: 'GUEST_ERROR', message: 'TypeError: bad thing' } });
  });

  it('reports a syntax error', async () => {
    const result = await runCode(sandbox, 'return (');
    expect(result).toMatchObject({ status: 'failed', error: { code: 'GUEST_SYNTAX_ERROR' } });
  });

  it('fails fast when the entry awaits a promise nothing can settle', async () => {
    const result = await runCode(sandbox, 'await new Promise(() => {});');
    expect(result).toMatchObject({ status: 'failed', error: { code: 'GUEST_DEADLOCK' } });
  });

  it('refuses a value that is not JSON', async () => {
    const result = await runCode(sandbox, 'return 10n;');
    expect(result).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_NOT_JSON' } });
  });
});

describe('concurrency', () => {
  it('runs more executions than workers, each with its own fresh context', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      runCode(sandbox, `globalThis.counter = (globalThis.counter ?? 0) + 1; return [input.n, counter]`, {}, { input: { n: i } })));
    expect(results.map((r) => r.output)).toEqual(Array.from({ length: 8 }, (_, i) => [i, 1]));
  });
});

describe('kill switch', () => {
  it('kills a busy execution, reports the reason, and keeps serving', async () => {
    const pending = runCode(sandbox, 'while (true) {}', {}, { executionId: 'kill-me' });
    await new Promise((r) => setTimeout(r, 100));
    expect(sandbox.kill('kill-me', 'operator said so')).toBe(true);
    const result = await pending;
    expect(result).toMatchObject({ status: 'killed', was_terminated: true, error: { code: 'KILLED' } });
    expect(result.error?.message).toContain('operator said so');
    expect((await runCode(sandbox, 'return "alive"')).output).toBe('alive');
  });

  it('kills an execution that is waiting on a host call', async () => {
    let release: (() => void) | undefined;
    const pending = runCode(sandbox, 'await tollgate.read_context("slow"); return "never"', {}, {
      executionId: 'kill-waiting',
      handlers: { read_context: () => new Promise((r) => { release = () => r(null); }) },
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(sandbox.kill('kill-waiting', 'stop')).toBe(true);
    expect((await pending).status).toBe('killed');
    release?.();
  });

  it('killAll stops every running execution', async () => {
    const runs = [runCode(sandbox, 'while(true){}'), runCode(sandbox, 'while(true){}')];
    await new Promise((r) => setTimeout(r, 100));
    expect(sandbox.killAll('emergency')).toBe(2);
    expect((await Promise.all(runs)).map((r) => r.status)).toEqual(['killed', 'killed']);
  });

  it('kills a run that is still queued for a worker without waiting for one', async () => {
    const busy = [runCode(sandbox, 'while(true){}', {}, { executionId: 'busy-1' }), runCode(sandbox, 'while(true){}', {}, { executionId: 'busy-2' })];
    const queued = runCode(sandbox, 'return "ran"', {}, { executionId: 'queued' });
    await new Promise((r) => setTimeout(r, 50));
    expect(sandbox.kill('queued', 'not needed')).toBe(true);
    expect(await queued).toMatchObject({ status: 'killed', output: null });
    sandbox.killAll('cleanup');
    await Promise.all(busy);
  });

  it('refuses a second run with the same execution id while the first runs', async () => {
    const first = runCode(sandbox, 'await new Promise((r) => setTimeout(r, 100)); return 1', {}, { executionId: 'dup' });
    await expect(runCode(sandbox, 'return 2', {}, { executionId: 'dup' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await first).output).toBe(1);
  });

  it('returns false for an unknown execution', () => {
    expect(sandbox.kill('nope')).toBe(false);
  });
});

describe('request validation and shutdown', () => {
  it('rejects code over the size limit and non-JSON input with VALIDATION_FAILED', async () => {
    await expect(runCode(sandbox, 'x'.repeat(sandbox.options.maxCodeChars + 1))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runCode(sandbox, 'return 1', {}, { input: { n: 10n } as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runCode(sandbox, 'return 1', {}, { config: { memory_limit_mb: 0 } as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('refuses work after close with UNAVAILABLE', async () => {
    const closing = testSupervisor();
    await closing.start();
    await closing.close();
    await expect(runCode(closing, 'return 1')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(closing.workerCount).toBe(0);
  });
});
