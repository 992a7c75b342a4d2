import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TollgateError } from '@tollgate/core';
import { runCliCaptured as cli } from '../test/run-cli.js';
import { describeError } from './index.js';

// Regression: a missing file, an unreachable server or a port in use printed a stack trace instead of one line.
describe('CLI errors are one line saying what went wrong', () => {
  it('a missing file', async () => {
    for (const args of [['policy', 'lint', '/nonexistent/policy.yaml'], ['safety', 'scan', '--file', '/nonexistent/input.txt']]) {
      const result = await cli(...args);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/^tollgate: ENOENT: no such file or directory, open '\/nonexistent\/[a-z.]+'\n$/);
    }
  });

  it('a server that cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const result = await cli('audit', 'export', '--url', `http://127.0.0.1:${port}`, '--api-key', 'tg_live_x_y');
    expect(result.code).toBe(1);
    expect(result.err).toBe(`tollgate: cannot reach the server: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  // Regression: a mistyped --data-dir quietly created an empty installation (and a new vault master key) and listed
  // nothing, exit 0.
  it('a data directory that holds no database, for a command that only reads or changes one', async () => {
    const dir = join(tmpdir(), `tollgate-no-db-${process.pid}-${Date.now()}`);
    for (const args of [['keys', 'list'], ['tenants', 'list'], ['audit', 'export'], ['policy', 'replay', 'examples/policies/support-agent.yaml']]) {
      const result = await cli(...args, '--data-dir', dir);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err).toBe(`tollgate: CONFIG_INVALID: no Tollgate database at ${join(dir, 'tollgate.db')}: check --data-dir (env TOLLGATE_DATA_DIR), or create it with tollgate migrate (tollgate serve does too)\n`);
    }
    expect(existsSync(dir)).toBe(false);
    // Creating the database stays explicit: migrate (or serve), or a provisioning command.
    try {
      expect((await cli('tenants', 'create', 'acme', '--data-dir', dir)).code).toBe(0);
      expect((await cli('tenants', 'list', '--data-dir', dir)).out).toContain('acme');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a port in use, with what to do', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8787'), { code: 'EADDRINUSE', syscall: 'listen' });
    expect(describeError(error)).toBe('listen EADDRINUSE: address already in use 127.0.0.1:8787 (another process listens there: stop it or pick --port)');
    expect(describeError(new TollgateError('NOT_FOUND', 'no policy'))).toBe('NOT_FOUND: no policy');
    // A bug keeps its stack, for the report.
    expect(describeError(new RangeError('boom'))).toMatch(/^RangeError: boom\n\s+at /);
  });
});
