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

  // Regression: a --url holding user:password@ and an API key holding a line break reached fetch, whose TypeError
  // (printed with its stack, and logged by `approvals notify` at every reconnection) quoted the password and the key.
  describe('never prints a password or an API key', () => {
    const key = `tg_live_0123456789abcdef_SECRETPART${'a'.repeat(50)}`;
    const withPassword = 'http://admin:S3cretPassw0rd@127.0.0.1:9';

    it.each([
      ['audit proof --url', ['audit', 'proof', '--index', '0', '--url', withPassword, '--api-key', key], '--url'],
      ['audit export --url', ['audit', 'export', '--url', withPassword, '--api-key', key], '--url'],
      ['policy replay --url', ['policy', 'replay', 'examples/policies/support-agent.yaml', '--url', withPassword, '--api-key', key], '--url'],
      ['safety scan --url', ['safety', 'scan', '--file', 'package.json', '--url', withPassword, '--api-key', key], '--url'],
      ['approvals notify --url', ['approvals', 'notify', '--url', withPassword, '--webhook', 'http://127.0.0.1:9/x', '--api-key', key], '--url'],
      ['audit notify --webhook', ['audit', 'notify', '--webhook', withPassword, '--api-key', key], '--webhook'],
      ['approvals notify --dashboard-url', ['approvals', 'notify', '--webhook', 'http://127.0.0.1:9/x', '--dashboard-url', withPassword, '--api-key', key], '--dashboard-url'],
    ])('refuses a URL with user:password@ (%s) without repeating it', async (_name, args, flag) => {
      const result = await cli(...args);
      expect(result.code).toBe(1);
      expect(result.err).toBe(`tollgate: VALIDATION_FAILED: ${flag} must not hold a user name or password (user:password@): give the API key with --api-key or TOLLGATE_API_KEY\n`);
    });

    it.each([
      ['audit proof, --api-key', ['audit', 'proof', '--index', '0', '--url', 'http://127.0.0.1:9'], 'flag', '--api-key', '\n'],
      ['audit proof, env', ['audit', 'proof', '--index', '0', '--url', 'http://127.0.0.1:9'], 'env', 'env TOLLGATE_API_KEY', '\nX'],
      ['approvals notify, env', ['approvals', 'notify', '--url', 'http://127.0.0.1:9', '--webhook', 'http://127.0.0.1:9/x'], 'env', 'env TOLLGATE_API_KEY', '\r\n'],
      ['audit notify, --api-key', ['audit', 'notify', '--url', 'http://127.0.0.1:9', '--webhook', 'http://127.0.0.1:9/x'], 'flag', '--api-key', '\u001b[2K'],
      ['policy replay, non-ASCII', ['policy', 'replay', 'examples/policies/support-agent.yaml', '--url', 'http://127.0.0.1:9'], 'flag', '--api-key', 'é'],
    ])('refuses an API key holding a line break or a non-ASCII character (%s) without repeating it', async (_name, args, where, source, extra) => {
      const saved = process.env.TOLLGATE_API_KEY;
      if (where === 'env') process.env.TOLLGATE_API_KEY = `${key}${extra}`;
      try {
        const result = await cli(...args, ...(where === 'flag' ? ['--api-key', `${key}${extra}`] : []));
        expect(result.code).toBe(1);
        expect(result.err).toBe(`tollgate: VALIDATION_FAILED: the API key in ${source} holds a control character (a line break?) or a non-ASCII character; an API key is printable ASCII (tg_live_<id>_<secret>)\n`);
      } finally {
        if (saved === undefined) delete process.env.TOLLGATE_API_KEY;
        else process.env.TOLLGATE_API_KEY = saved;
      }
    });

    it('redacts credentials from any error it describes, and shows control characters', () => {
      const header = new TypeError(`Headers.append: "Bearer ${key}" is an invalid header value.`);
      expect(describeError(header)).toMatch(/^TypeError: Headers\.append: "Bearer \[redacted\]" is an invalid header value\.\n\s+at /);
      const unreachable = new TypeError('fetch failed', { cause: new Error(`getaddrinfo ENOTFOUND for http://admin:S3cretPassw0rd@nowhere.example with ${key}`) });
      expect(describeError(unreachable)).toBe('cannot reach the server: getaddrinfo ENOTFOUND for http://[redacted]@nowhere.example with tg_live_[redacted]');
      expect(describeError(new TollgateError('UNAVAILABLE', 'no\u001b[2K\rOK'))).toBe('UNAVAILABLE: no\\u001b[2K\\u000dOK');
    });
  });

  it('a port in use, with what to do', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8787'), { code: 'EADDRINUSE', syscall: 'listen' });
    expect(describeError(error)).toBe('listen EADDRINUSE: address already in use 127.0.0.1:8787 (another process listens there: stop it or pick --port)');
    expect(describeError(new TollgateError('NOT_FOUND', 'no policy'))).toBe('NOT_FOUND: no policy');
    // A bug keeps its stack, for the report.
    expect(describeError(new RangeError('boom'))).toMatch(/^RangeError: boom\n\s+at /);
  });
});
