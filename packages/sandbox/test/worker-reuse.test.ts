import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxSupervisor } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// Regression: WASM memory never shrinks, so a worker that a previous run grew made the next run with a small limit
// fail at once with MEMORY_LIMIT. Workers are now chosen (or replaced) so their size leaves room for the new limit.
let sandbox: SandboxSupervisor;
beforeAll(async () => { sandbox = new SandboxSupervisor({ maxWorkers: 1 }); await sandbox.start(); });
afterAll(async () => { await sandbox.close(); });

describe('worker reuse after memory growth', () => {
  it('runs a small-limit execution after a large legal allocation on the only worker', async () => {
    const big = await runCode(sandbox, "const a = []; for (let i = 0; i < 6e5; i++) a.push('y' + i); return a.length", { memory_limit_mb: 64, cpu_time_limit_ms: 20_000 });
    expect(big).toMatchObject({ status: 'completed', output: 6e5 });
    expect(big.resource_usage.memory_mb).toBeGreaterThan(8);
    const small = await runCode(sandbox, 'return "fits"', { memory_limit_mb: 4 });
    expect(small).toMatchObject({ status: 'completed', output: 'fits' });
  });

  it('still stops a small-limit bomb on a fresh worker', async () => {
    const bomb = await runCode(sandbox, "const a = []; for (let i = 0; ; i++) a.push('z' + i);", { memory_limit_mb: 4, cpu_time_limit_ms: 20_000 });
    expect(bomb).toMatchObject({ status: 'terminated', error: { code: 'MEMORY_LIMIT' } });
    expect(sandbox.workerCount).toBeLessThanOrEqual(1);
  });
});

describe('memory buckets on a single-worker pool', () => {
  it('serves runs with different memory limits one after another by replacing the worker', async () => {
    const limits = [64, 200, 64, 700];
    const results = await Promise.all(limits.map((limit) => runCode(sandbox, `return ${limit}`, { memory_limit_mb: limit })));
    expect(results.map((r) => [r.status, r.output])).toEqual(limits.map((limit) => ['completed', limit]));
    expect(sandbox.workerCount).toBeLessThanOrEqual(1);
  });
});
