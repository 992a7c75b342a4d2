import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './run-cli.js';

describe('tollgate tenants retention', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-retention-'));
    expect((await runCliCaptured('tenants', 'create', 'acme', '--data-dir', dir)).code).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sets a tenant\'s own period, shows it in tenants list, and goes back to the server default', async () => {
    const set = await runCliCaptured('tenants', 'retention', 'acme', '30', '--data-dir', dir);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain('Tenant acme: retention: 30 days');
    expect((await runCliCaptured('tenants', 'list', '--data-dir', dir)).out).toMatch(/^acme\tacme\t.*\tretention: 30 days$/m);
    expect((await runCliCaptured('tenants', 'retention', 'acme', '0', '--data-dir', dir)).out).toContain('retention: keep everything');
    expect((await runCliCaptured('tenants', 'retention', 'acme', 'default', '--data-dir', dir)).out).toContain('retention: server default');
  });

  it.each([['1.5'], ['-5'], ['thirty'], ['36501']])('refuses %s days without changing anything', async (days) => {
    const result = await runCliCaptured('tenants', 'retention', 'acme', days, '--data-dir', dir);
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/VALIDATION_FAILED/);
    expect((await runCliCaptured('tenants', 'list', '--data-dir', dir)).out).toMatch(/^acme\t.*\tretention: server default$/m);
  });

  it('refuses an unknown tenant', async () => {
    const result = await runCliCaptured('tenants', 'retention', 'nobody', '3', '--data-dir', dir);
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/NOT_FOUND/);
  });
});
