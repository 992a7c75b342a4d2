import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './run-cli.js';

describe('tollgate keys create --agents', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-key-agents-'));
    expect((await runCliCaptured('migrate', '--data-dir', dir)).code).toBe(0);
    expect((await runCliCaptured('tenants', 'create', 'team-x', '--data-dir', dir)).code).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key restricted to the listed agents, and keys list shows them', async () => {
    const created = await runCliCaptured('keys', 'create', '--scopes', 'enforce,events:write', '--agents', 'support-bot,billing-bot', '--tenant', 'team-x', '--data-dir', dir);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain('agents: support-bot,billing-bot');
    const id = /Created key ([a-z0-9]+)/.exec(created.out)?.[1];
    const listed = await runCliCaptured('keys', 'list', '--tenant', 'team-x', '--data-dir', dir);
    expect(listed.out).toContain(`${id}\tactive\tenforce,events:write`);
    expect(listed.out).toMatch(new RegExp(`${id}\\t.*\\tagents support-bot,billing-bot`));
  });

  // Names are typed by others (API, dashboard) and were printed raw: escape sequences and bidi overrides reached the
  // terminal.
  it('prints key and tenant names inert: control, escape and direction-changing characters shown as \\uXXXX', async () => {
    const hostile = 'ci\u001b[2K\rOK\u202eyek';
    expect((await runCliCaptured('keys', 'create', '--scopes', 'enforce', '--name', hostile, '--tenant', 'team-x', '--data-dir', dir)).code).toBe(0);
    expect((await runCliCaptured('tenants', 'create', 'team-y', '--name', hostile, '--data-dir', dir)).code).toBe(0);
    for (const listed of [await runCliCaptured('keys', 'list', '--tenant', 'team-x', '--data-dir', dir), await runCliCaptured('tenants', 'list', '--data-dir', dir)]) {
      expect(listed.out).toContain('ci\\u001b[2K\\u000dOK\\u202eyek');
      expect(listed.out).not.toMatch(/[\u001b\r\u202e]/);
    }
  });

  it('creates a key with scope agents restricted to a sandbox agent name', async () => {
    const created = await runCliCaptured('keys', 'create', '--scopes', 'agents', '--agents', 'my-summarizer', '--tenant', 'team-x', '--data-dir', dir);
    expect(created.code).toBe(0);
    const listed = await runCliCaptured('keys', 'list', '--tenant', 'team-x', '--data-dir', dir);
    expect(listed.out).toMatch(/\tagents my-summarizer/);
  });

  it.each([
    ['an empty id', ['--scopes', 'enforce', '--agents', 'a,,b']],
    ['a space-padded id', ['--scopes', 'enforce', '--agents', 'a, b']],
    ['a scope other than enforce, events:write and agents', ['--scopes', 'enforce,policies', '--agents', 'a']],
  ])('refuses %s', async (_, flags) => {
    const result = await runCliCaptured('keys', 'create', '--tenant', 'team-x', ...flags, '--data-dir', dir);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/VALIDATION_FAILED: .*agent/i);
  });
});
