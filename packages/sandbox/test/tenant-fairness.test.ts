import { afterEach, describe, expect, it } from 'vitest';
import { SandboxSupervisor } from '../src/index.js';
import type { ExecutionResult, SupervisorOptions } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// Attack: one tenant starts more long executions than there are workers (templates allow an hour each). Before the
// per-tenant cap, its runs took every worker and other tenants' runs waited behind them in the FIFO queue, or got
// UNAVAILABLE once the tenant had filled the whole queue too.

let sandbox: SandboxSupervisor | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function supervisor(options: SupervisorOptions): Promise<SandboxSupervisor> {
  sandbox = new SandboxSupervisor({ warmWorkers: 0, killGraceMs: 100, ...options });
  await sandbox.start();
  return sandbox;
}

/** Guest runs that wait in a host call until the test releases them: `started` lists the ones that reached it. */
function gatedRuns(): {
  started: string[];
  run: (sandbox: SandboxSupervisor, tenant: string, id: string) => Promise<ExecutionResult>;
  finish: (id: string) => void;
} {
  const started: string[] = [];
  const gates = new Map<string, (value: string) => void>();
  const run = (target: SandboxSupervisor, tenant: string, id: string) => runCode(target, `return await tollgate.read_context(${JSON.stringify(id)})`,
    { cpu_time_limit_ms: 120_000 }, {
      executionId: id,
      isolationKey: tenant,
      handlers: { read_context: (key) => new Promise((resolve) => { started.push(key); gates.set(key, resolve); }) },
    });
  const finish = (id: string) => {
    const gate = gates.get(id);
    if (!gate) throw new Error(`${id} has not started`);
    gate(`done ${id}`);
  };
  return { started, run, finish };
}

/** Polls until `condition` holds (a liveness check: the test's own timeout is the bound). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

describe('per-tenant cap on running executions', () => {
  it('another tenant still runs while one tenant has more long executions than its cap', async () => {
    const target = await supervisor({ maxWorkers: 3, maxRunningPerTenant: 2 });
    const gated = gatedRuns();
    const tenantA = ['a1', 'a2', 'a3', 'a4'].map((id) => gated.run(target, 'tenant-a', id));
    await until(() => gated.started.length === 2);

    const b = await runCode(target, 'return "b ran"', {}, { isolationKey: 'tenant-b' });
    expect(b).toMatchObject({ status: 'completed', output: 'b ran' });
    expect([...gated.started].sort()).toEqual(['a1', 'a2']); // the cap held: a3 and a4 still wait (a1, a2 race)

    // A's queued runs start, in order, as its earlier ones finish.
    gated.finish('a1');
    await until(() => gated.started.length === 3);
    expect(gated.started[2]).toBe('a3');
    gated.finish('a2');
    gated.finish('a3');
    await until(() => gated.started.length === 4);
    gated.finish('a4');
    expect((await Promise.all(tenantA)).map((r) => r.output)).toEqual(['done a1', 'done a2', 'done a3', 'done a4']);
  });

  it('runs without an isolation key (no tenants declared) may use every worker', async () => {
    const target = await supervisor({ maxWorkers: 2 }); // default cap: 1 per declared tenant
    const started: string[] = [];
    const gates: Array<(value: string) => void> = [];
    const run = (id: string) => runCode(target, `return await tollgate.read_context(${JSON.stringify(id)})`, { cpu_time_limit_ms: 120_000 }, {
      executionId: id,
      handlers: { read_context: (key) => new Promise((resolve) => { started.push(key); gates.push(resolve); }) },
    });
    const runs = [run('u1'), run('u2')];
    await until(() => started.length === 2);
    for (const gate of gates) gate('done');
    expect((await Promise.all(runs)).map((r) => r.status)).toEqual(['completed', 'completed']);
  });

  it('raising the cap at run time starts queued runs that now fit; lowering it applies to the next hand-outs', async () => {
    const target = await supervisor({ maxWorkers: 2, maxRunningPerTenant: 1 });
    const gated = gatedRuns();
    const runs = ['a1', 'a2', 'a3'].map((id) => gated.run(target, 'tenant-a', id));
    await until(() => gated.started.length === 1);
    expect(target.maxRunningPerTenant).toBe(1);

    target.setMaxRunningPerTenant(2); // e.g. the installation turned out to have a single tenant
    await until(() => gated.started.length === 2);
    expect(gated.started).toEqual(['a1', 'a2']);

    target.setMaxRunningPerTenant(undefined); // back to the default: half of 2 workers
    expect(target.maxRunningPerTenant).toBe(1);
    gated.finish('a1');
    gated.finish('a2');
    await until(() => gated.started.length === 3);
    gated.finish('a3');
    expect((await Promise.all(runs)).map((r) => r.output)).toEqual(['done a1', 'done a2', 'done a3']);

    target.setMaxRunningPerTenant(99); // clamped to the pool
    expect(target.maxRunningPerTenant).toBe(2);
  });

  it('a capped tenant does not block the queue: a later tenant runs ahead of its waiting executions', async () => {
    const target = await supervisor({ maxWorkers: 2, maxRunningPerTenant: 1 });
    const gated = gatedRuns();
    const tenantA = ['a1', 'a2', 'a3'].map((id) => gated.run(target, 'tenant-a', id));
    await until(() => gated.started.length === 1);
    // a2 and a3 were queued first; b still gets the free worker.
    const b = gated.run(target, 'tenant-b', 'b1');
    await until(() => gated.started.includes('b1'));
    expect(gated.started).toEqual(['a1', 'b1']);
    gated.finish('b1');
    expect(await b).toMatchObject({ status: 'completed', output: 'done b1' });
    target.killAll('cleanup');
    expect((await Promise.all(tenantA)).map((r) => r.status)).toEqual(['killed', 'killed', 'killed']);
  });

  // setMaxRunningPerTenant(NaN) (a cap computed from a missing count, or parsed from bad text) clamped to NaN, and
  // `running >= NaN` is never true: the cap disappeared and one tenant could take every worker again.
  it('a cap that is not a number falls back to the default instead of lifting the cap', async () => {
    const target = await supervisor({ maxWorkers: 2 });
    for (const bad of [Number.NaN, Number('x'), -Infinity]) {
      target.setMaxRunningPerTenant(2);
      target.setMaxRunningPerTenant(bad);
      expect(target.maxRunningPerTenant).toBe(1);
    }
    const gated = gatedRuns();
    const runs = ['a1', 'a2'].map((id) => gated.run(target, 'tenant-a', id));
    await until(() => gated.started.length === 1);
    const b = await runCode(target, 'return "b ran"', {}, { isolationKey: 'tenant-b' });
    expect(b).toMatchObject({ status: 'completed', output: 'b ran' });
    expect(gated.started).toEqual(['a1']);
    target.killAll('cleanup');
    await Promise.all(runs);
  });

  it('defaults to half the workers (rounded up) for a pool of more than one, and the whole pool of one', () => {
    expect(new SandboxSupervisor({ maxWorkers: 2 }).options.maxRunningPerTenant).toBe(1);
    expect(new SandboxSupervisor({ maxWorkers: 5 }).options.maxRunningPerTenant).toBe(3);
    expect(new SandboxSupervisor({ maxWorkers: 1 }).options.maxRunningPerTenant).toBe(1);
    expect(new SandboxSupervisor({ maxWorkers: 4, maxRunningPerTenant: 0 }).options.maxRunningPerTenant).toBe(2);
    expect(new SandboxSupervisor({ maxWorkers: 4, maxRunningPerTenant: 9 }).options.maxRunningPerTenant).toBe(4);
    expect(new SandboxSupervisor({ maxQueue: 256 }).options.maxQueuedPerTenant).toBe(128);
  });
});

describe('per-tenant share of the queue', () => {
  it('a tenant flooding the queue gets UNAVAILABLE while another tenant can still enqueue', async () => {
    const target = await supervisor({ maxWorkers: 1, maxQueue: 4, maxQueuedPerTenant: 2 });
    const gated = gatedRuns();
    const accepted = [gated.run(target, 'tenant-a', 'a1')];
    await until(() => gated.started.length === 1);
    accepted.push(gated.run(target, 'tenant-a', 'a2'), gated.run(target, 'tenant-a', 'a3'));
    await expect(gated.run(target, 'tenant-a', 'a4')).rejects.toMatchObject({ code: 'UNAVAILABLE' });

    const b = gated.run(target, 'tenant-b', 'b1');
    gated.finish('a1');
    await until(() => gated.started.length === 2);
    gated.finish('a2');
    await until(() => gated.started.length === 3);
    gated.finish('a3');
    await until(() => gated.started.includes('b1'));
    gated.finish('b1');
    expect(await b).toMatchObject({ status: 'completed', output: 'done b1' });
    expect((await Promise.all(accepted)).map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('a killed queued execution gives its queue place back at once', async () => {
    const target = await supervisor({ maxWorkers: 1, maxQueue: 4, maxQueuedPerTenant: 1 });
    const gated = gatedRuns();
    const first = gated.run(target, 'tenant-a', 'a1');
    await until(() => gated.started.length === 1);
    const queued = gated.run(target, 'tenant-a', 'a2');
    await expect(gated.run(target, 'tenant-a', 'refused')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(target.kill('a2', 'not needed')).toBe(true);
    expect(await queued).toMatchObject({ status: 'killed' });
    const again = gated.run(target, 'tenant-a', 'a3');
    gated.finish('a1');
    await until(() => gated.started.includes('a3'));
    gated.finish('a3');
    expect((await Promise.all([first, again])).map((r) => r.output)).toEqual(['done a1', 'done a3']);
    expect(gated.started).toEqual(['a1', 'a3']); // the killed run never reached a worker
  });
});

describe('a tenant slot is released however the run ends', () => {
  it.each([
    ['killed while looping', 'while (true) {}', 120_000, 'killed'],
    ['killed while waiting on a host call', 'await tollgate.read_context("forever")', 120_000, 'killed'],
    ['timed out', 'while (true) {}', 300, 'timeout'],
    ['stopped for memory', 'const a = []; for (;;) a.push("x".repeat(64) + a.length)', 120_000, 'terminated'],
  ])('after its run was %s, the tenant\'s next execution runs', async (_name, code, cpuTimeLimitMs, status) => {
    const target = await supervisor({ maxWorkers: 2, maxRunningPerTenant: 1 });
    let waiting = false;
    const first = runCode(target, `tollgate.log("started"); ${code}`, { cpu_time_limit_ms: cpuTimeLimitMs }, {
      executionId: 'first', isolationKey: 'tenant-a',
      handlers: { read_context: () => new Promise(() => { /* never answers */ }) },
      onHostCall: (entry) => { if (entry.fn === 'log') waiting = true; },
    });
    const next = runCode(target, 'return "next ran"', {}, { isolationKey: 'tenant-a' });
    await until(() => waiting);
    if (status === 'killed') target.kill('first', 'test');
    expect(await first).toMatchObject({ status });
    expect(await next).toMatchObject({ status: 'completed', output: 'next ran' });
    expect(await runCode(target, 'return "still served"', {}, { isolationKey: 'tenant-a' })).toMatchObject({ output: 'still served' });
  });

  it('after its worker crashed, the tenant\'s next execution runs', async () => {
    // A stand-in worker (test/fixtures/misbehaving-worker.mjs) that exits on `exit`: a real thread dying mid-run.
    const target = await supervisor({
      maxWorkers: 2, maxRunningPerTenant: 1, workerEntry: new URL('./fixtures/misbehaving-worker.mjs', import.meta.url),
    });
    const crashed = runCode(target, 'exit', {}, { isolationKey: 'tenant-a' });
    const next = runCode(target, 'fine', {}, { isolationKey: 'tenant-a' });
    expect(await crashed).toMatchObject({ status: 'terminated', error: { code: 'WORKER_CRASHED' } });
    expect(await next).toMatchObject({ status: 'completed', output: 'ok' });
  });
});
