import { describe, expect, it } from 'vitest';
import { runInChild } from './fixtures/child.js';

// Cases that, without the supervisor's defences, take a Node process down or exhaust its memory. Each runs in a
// child process; the child must exit normally, report a bounded error and still serve the next execution.
// 32 MB keeps the suite quick; bench/sandbox.bench.mjs measures the 64 MB case of the issue.
const LIMIT_MB = 32;

describe('memory bombs (child process)', () => {
  it.each([
    ['many small strings', "const a = []; for (let i = 0; ; i++) a.push('x' + i);"],
    ['one huge string', "return 'x'.repeat(2 ** 28).length"],
    ['a huge array', 'return new Array(2 ** 26).fill(0).length'],
    ['a huge ArrayBuffer', 'return new ArrayBuffer(2 ** 30).byteLength'],
    ['many objects', 'const a = []; for (;;) a.push({ a: 1, b: [1, 2, 3] });'],
  ])('stops %s at the memory limit with the host alive', async (_name, code) => {
    const outcome = await runInChild(code, { memory_limit_mb: LIMIT_MB, cpu_time_limit_ms: 10_000 });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result).toMatchObject({ status: 'terminated', was_terminated: true, error: { code: 'MEMORY_LIMIT' } });
    expect(outcome.after).toBe('still serving');
    expect(outcome.rssGrowthMb).toBeLessThan(LIMIT_MB + 64);
  });
});

describe('string doubling (child process)', () => {
  it('ends in a bounded error: QuickJS builds ropes, so the length cap (2^30) or the memory limit trips', async () => {
    const outcome = await runInChild("let s = 'x'; for (;;) { s += s; s.charCodeAt(s.length - 1); }", { memory_limit_mb: LIMIT_MB, cpu_time_limit_ms: 10_000 });
    expect(outcome.exitCode).toBe(0);
    expect(['failed', 'terminated']).toContain(outcome.result.status);
    expect(outcome.result.error?.message).toMatch(/string too long|memory limit/);
    expect(outcome.after).toBe('still serving');
    expect(outcome.rssGrowthMb).toBeLessThan(LIMIT_MB + 64);
  });
});

describe('native recursion (child process)', () => {
  it.each([
    ['deeply nested JSON.stringify', 'let o = {}; let c = o; for (let i = 0; i < 1e5; i++) { c.a = {}; c = c.a } return JSON.stringify(o).length'],
    ['deeply nested JSON.parse', "return JSON.parse('['.repeat(1e6) + ']'.repeat(1e6)).length"],
    ['deep recursion', 'function f(n) { return f(n + 1) + 1 } return f(0)'],
    ['deeply nested regexp', "return new RegExp('('.repeat(1e5) + ')'.repeat(1e5)).test('')"],
  ])('bounds %s with the host alive', async (_name, code) => {
    // A short deadline: deep native recursion (JSON.stringify's cycle check is quadratic) may run past it inside one
    // C call, where only the parent's timer can end it.
    const outcome = await runInChild(code, { memory_limit_mb: 128, cpu_time_limit_ms: 1500 });
    expect(outcome.exitCode).toBe(0);
    expect(['failed', 'terminated', 'timeout']).toContain(outcome.result.status);
    expect(outcome.result.error?.code).toMatch(/STACK_OVERFLOW|MEMORY_LIMIT|GUEST_ERROR|WORKER_CRASHED|TIMEOUT/);
    expect(outcome.after).toBe('still serving');
  });
});
