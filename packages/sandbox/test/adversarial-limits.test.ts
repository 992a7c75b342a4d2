import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxSupervisor } from '../src/index.js';
import { runCode, testSupervisor } from './fixtures/harness.js';

// Resource exhaustion that is bounded inside the engine runs in this process; cases that could take a process
// down (memory, native recursion) run in a child process in adversarial-crash.test.ts.
let sandbox: SandboxSupervisor;
beforeAll(async () => { sandbox = testSupervisor(); await sandbox.start(); });
afterAll(async () => { await sandbox.close(); });

const FAST = { cpu_time_limit_ms: 300 };

describe('CPU and event-loop exhaustion', () => {
  it.each([
    ['while(true){}', 'while (true) {}'],
    ['for(;;) with try/finally', 'for (;;) { try { continue } finally { } }'],
    ['an infinite loop inside a catch of the interrupt', 'while (true) { try { while (true) {} } catch (e) {} }'],
    ['a catastrophic regular expression', "return /^(a+)+$/.test('a'.repeat(40) + 'b')"],
    ['a microtask loop that never lets the entry settle', 'await new Promise(() => { (function loop() { Promise.resolve().then(loop) })() })'],
    ['a timer loop that never lets the entry settle', 'await new Promise(() => { setInterval(() => {}, 0) })'],
    ['a busy timer callback', 'setTimeout(() => { while (true) {} }, 0); await new Promise(() => {})'],
  ])('stops %s at the deadline', async (_name, code) => {
    const result = await runCode(sandbox, code, FAST);
    expect(result).toMatchObject({ status: 'timeout', was_terminated: true, error: { code: 'TIMEOUT' } });
    expect(result.violations.map((v) => v.kind)).toContain('sandbox_limit_hit');
    expect((await runCode(sandbox, 'return "next run fine"')).output).toBe('next run fine');
  });

  // On a quiet machine 10 000 awaited log calls (the default host-call limit) took under 300 ms, so this case ended
  // HOST_CALL_LIMIT before its deadline: the limit is raised here so that the deadline is what stops it.
  it('stops an async loop over host calls at the deadline', async () => {
    const roomy = new SandboxSupervisor({ maxWorkers: 1, warmWorkers: 1, maxHostCallsPerRun: 10_000_000 });
    await roomy.start();
    try {
      const result = await runCode(roomy, 'for (;;) await tollgate.log("x")', FAST);
      expect(result).toMatchObject({ status: 'timeout', was_terminated: true, error: { code: 'TIMEOUT' } });
      expect(result.violations.map((v) => v.kind)).toContain('sandbox_limit_hit');
      expect((await runCode(roomy, 'return "next run fine"')).output).toBe('next run fine');
    } finally {
      await roomy.close();
    }
  });

  it('ends the run when the entry settles, even with microtasks and timers still queued', async () => {
    const code = `(function loop() { Promise.resolve().then(loop) })();
setInterval(() => tollgate.log('tick'), 1);
return 'done';`;
    const result = await runCode(sandbox, code, FAST);
    expect(result).toMatchObject({ status: 'completed', output: 'done' });
    const logsAtEnd = result.logs.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(result.logs.length).toBe(logsAtEnd);
  });

  it('caps the number of pending timers', async () => {
    const result = await runCode(sandbox, 'for (let i = 0; i < 1000; i++) setTimeout(() => {}, 100000)', FAST);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'GUEST_ERROR' } });
    expect(result.error?.message).toMatch(/pending timers/);
  });

  it('terminates a run that floods the host with log calls', async () => {
    const result = await runCode(sandbox, 'for (let i = 0; i < 20000; i++) tollgate.log("spam " + i); await new Promise((r) => setTimeout(r, 200))', { cpu_time_limit_ms: 5000 });
    expect(result).toMatchObject({ status: 'terminated', error: { code: 'HOST_CALL_LIMIT' } });
    expect(result.logs.length).toBeLessThanOrEqual(1001);
  });
});

describe('unhandled rejections and stray errors', () => {
  it('never reach the host process', async () => {
    const seen: unknown[] = [];
    const onRejection = (reason: unknown): void => { seen.push(reason); };
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onRejection);
    try {
      const code = `Promise.reject(new Error('nobody handles me'));
(async () => { throw new Error('async nobody') })();
setTimeout(() => { throw new Error('thrown in a timer') }, 0);
await new Promise((r) => setTimeout(r, 20));
return 'ok';`;
      const result = await runCode(sandbox, code);
      expect(result).toMatchObject({ status: 'completed', output: 'ok' });
      expect(result.logs.some((l) => l.level === 'error' && l.message.includes('thrown in a timer'))).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onRejection);
    }
  });

  it('reports a rejected entry promise as failed', async () => {
    const result = await runCode(sandbox, 'await Promise.reject(new RangeError("late"))');
    expect(result).toMatchObject({ status: 'failed', error: { code: 'GUEST_ERROR', message: 'RangeError: late' } });
  });
});

describe('recursion inside the engine', () => {
  it('allows ordinary recursion a few thousand calls deep', async () => {
    const result = await runCode(sandbox, 'function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1) } return depth(4000)');
    expect(result).toMatchObject({ status: 'completed', output: 4000 });
  });

  it('lets the guest catch its own stack overflow', async () => {
    const result = await runCode(sandbox, 'function f() { return f() } try { f() } catch (e) { return e.message }');
    expect(result).toMatchObject({ status: 'completed', output: 'stack overflow' });
  });

  it.each([
    ['plain recursion', 'function f() { return f() + 1 } f()'],
    ['recursion through toString', 'const o = {}; o.toString = () => String(o); String(o)'],
    ['recursion through getters', 'const o = { get x() { return this.x } }; o.x'],
    ['async recursion', 'async function f() { return await f() } await f()'],
  ])('bounds %s with the stack limit', async (_name, code) => {
    const result = await runCode(sandbox, code);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'STACK_OVERFLOW' } });
    expect((await runCode(sandbox, 'return 1')).output).toBe(1);
  });
});

// The output limit counted UTF-16 code units: an output of three-byte characters passed at three times the limit.
describe('output size is measured in UTF-8 bytes', () => {
  it.each([
    ['returned', 'return "€".repeat(input.n)'],
    ['written with write_result', 'await tollgate.write_result("€".repeat(input.n)); return null'],
  ])('refuses an output of multi-byte characters over the byte limit (%s)', async (_how, code) => {
    const limit = sandbox.options.maxOutputBytes;
    const over = await runCode(sandbox, code, {}, { input: { n: Math.ceil(limit / 3) + 10 } });
    expect(over.status).toBe('failed');
    expect(JSON.stringify(over.error)).toMatch(/OUTPUT_TOO_LARGE|larger than/);
    const under = await runCode(sandbox, code, {}, { input: { n: Math.floor(limit / 3) - 10 } });
    expect(under.status).toBe('completed');
  });
});
