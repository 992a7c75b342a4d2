import { afterEach, describe, expect, it } from 'vitest';
import { defaultWorkerEntry, memoryBucketMb } from '../src/supervisor/options.js';
import { WorkerPool } from '../src/supervisor/worker-pool.js';
import { SandboxSupervisor } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// A worker's WASM memory keeps what earlier runs left there. Runs of different isolation domains (tenants) must
// never share a worker, so that no engine bug can hand one tenant's leftovers to another's guest.
const need = (isolationKey: string) => ({ bucketMb: memoryBucketMb(128), limitBytes: 128 * 1048576, isolationKey });

describe('sandbox workers are bound to one isolation domain', () => {
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
  });

  it('reuses a worker within a domain and never hands it to another domain', async () => {
    pool = new WorkerPool(defaultWorkerEntry(), 2, 10);
    const a1 = await pool.acquire(need('tenant-a'));
    pool.release(a1);
    const b1 = await pool.acquire(need('tenant-b'));
    expect(b1).not.toBe(a1);
    pool.release(b1);
    const a2 = await pool.acquire(need('tenant-a'));
    expect(a2).toBe(a1); // reuse within the domain
    expect(pool.domainOf(a2)).toBe('tenant-a');
    pool.release(a2);
  });

  it('with a single worker slot, a run of another domain gets a fresh worker and the old one is gone', async () => {
    pool = new WorkerPool(defaultWorkerEntry(), 1, 10);
    await pool.warm(memoryBucketMb(128), 1);
    const a = await pool.acquire(need('tenant-a'));
    expect(pool.domainOf(a)).toBe('tenant-a'); // a warmed worker is bound by its first run
    pool.release(a);
    const b = await pool.acquire(need('tenant-b'));
    expect(b).not.toBe(a);
    expect(a.alive).toBe(false);
    expect(pool.size).toBe(1);
    pool.release(b);
  });

  it('through the supervisor: runs of two tenants interleaved on one worker slot all complete', async () => {
    const sandbox = new SandboxSupervisor({ maxWorkers: 1, warmWorkers: 1 });
    await sandbox.start();
    try {
      const results = [];
      for (const tenant of ['a', 'b', 'a', 'b']) results.push(await runCode(sandbox, `return ${JSON.stringify(tenant)}`, {}, { isolationKey: tenant }));
      expect(results.map((r) => [r.status, r.output])).toEqual([['completed', 'a'], ['completed', 'b'], ['completed', 'a'], ['completed', 'b']]);
      expect(sandbox.workerCount).toBe(1);
    } finally {
      await sandbox.close();
    }
  });
});
