// A `--url` server that is not Tollgate (or a spoofed one) answers with terminal escape sequences in every text the
// CLI prints: its error message, the checkpoint note after an export, a replay report, a scan result. A local HTTP
// server plays it. The CLI must show those characters, not hand them to the terminal.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured as cli } from './run-cli.js';

/** Erase the line, return to its start, set the window title, print a green "OK" (and, with C1, the same again). */
const FAKE_OK = '\u001b[2K\r\u001b]0;pwned\u0007\u001b[32mOK: 0 problems, ledger verified\u001b[0m\u009b2K';
/** Any control character but the line feed: what must never reach the terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const KEY = `tg_live_0123456789abcdef_${'a'.repeat(64)}`;
const NOTE = `tollgate.test/acme\n3\nAAAA${FAKE_OK}\n\n— tollgate.test/acme sig${FAKE_OK}\n`;

/** What the hostile server answers, by path. */
function answer(path: string): { status: number; type: string; body: string } {
  const json = (status: number, value: unknown) => ({ status, type: 'application/json', body: JSON.stringify(value) });
  if (path.startsWith('/api/v1/audit/checkpoint')) return json(401, { error: { code: 'UNAUTHENTICATED', message: `${FAKE_OK}\nOK: record verified` } });
  if (path.startsWith('/api/v1/audit/bundle')) {
    return { status: 200, type: 'application/x-ndjson', body: `${JSON.stringify({ format: 'tollgate-ledger-bundle/v2' })}\n${JSON.stringify({ checkpoint: NOTE })}\n` };
  }
  if (path === '/api/v1/policies') return json(200, { policies: [{ id: 'p1', active: true }] });
  if (path.endsWith('/simulate')) {
    return json(200, {
      scanned: 1, changed: 1, unchanged: 0, skipped: 0, truncated: false, transitions: { [`ALLOW→BLOCK${FAKE_OK}`]: 1 },
      examples: [{ ts: '2026-01-01T00:00:00.000Z', agentId: `bot${FAKE_OK}`, toolName: 'refund', decisionId: 'd1', recorded: { decision: 'ALLOW', answered: 'ALLOW' }, replayed: { decision: 'BLOCK', reason: `no\nOK: nothing would change${FAKE_OK}` } }],
    });
  }
  if (path === '/api/v1/safety/scan') return json(200, { verdict: 'allow', scores: { injection: 0 }, findings: [{ rule: `x${FAKE_OK}`, message: FAKE_OK }] });
  return json(404, { error: { code: 'NOT_FOUND', message: FAKE_OK } });
}

describe('a hostile --url server cannot write to the terminal', () => {
  let server: Server;
  let url = '';
  let dir = '';
  beforeAll(async () => {
    server = createServer((request, response) => {
      const { status, type, body } = answer(request.url ?? '/');
      request.resume();
      request.on('end', () => response.writeHead(status, { 'content-type': type }).end(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'tollgate-hostile-server-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  // Regression: the server's error message was printed as it was (commands/shared.ts serverRefusal).
  it('its error message is one line with the escapes shown', async () => {
    const result = await cli('audit', 'proof', '--index', '0', '--url', url, '--api-key', KEY);
    expect(result.code).toBe(1);
    expect(result.err).toBe('tollgate: UNAUTHENTICATED: /api/v1/audit/checkpoint: the server answered HTTP 401: '
      + '\\u001b[2K\\u000d\\u001b]0;pwned\\u0007\\u001b[32mOK: 0 problems, ledger verified\\u001b[0m\\u009b2K\\u000aOK: record verified\n');
  });

  // Regression: the checkpoint note printed after `audit export` was written to stderr as it was.
  it('the checkpoint note after an export keeps its lines, with the escapes shown; --checkpoint-out keeps the note as sent', async () => {
    const kept = join(dir, 'checkpoint.txt');
    const result = await cli('audit', 'export', '--url', url, '--api-key', KEY, '--out', join(dir, 'bundle.jsonl'), '--checkpoint-out', kept);
    expect(result.code).toBe(0);
    expect(result.err).not.toMatch(CONTROL);
    expect(result.err).toContain('keep this checkpoint');
    expect(result.err).toContain('\ntollgate.test/acme\n3\nAAAA\\u001b[2K\\u000d\\u001b]0;pwned\\u0007');
    expect(await readFile(kept, 'utf8')).toBe(NOTE);
  });

  it.each([
    ['policy replay', ['policy', 'replay', 'examples/policies/support-agent.yaml'], false],
    ['policy replay --json', ['policy', 'replay', 'examples/policies/support-agent.yaml', '--json'], true],
    ['safety scan (C1 characters, which JSON.stringify leaves as they are)', ['safety', 'scan', '--file', 'package.json'], true],
  ])('%s prints the report with the escapes shown', async (_name, args, json) => {
    const result = await cli(...args, '--url', url, '--api-key', KEY);
    expect(result.out).not.toMatch(CONTROL);
    expect(result.out).toContain('\\u001b[2K');
    if (json) expect(JSON.stringify(JSON.parse(result.out))).toContain(JSON.stringify(FAKE_OK).slice(1, -1)); // the same JSON
    else expect(result.out).not.toMatch(/^OK: nothing would change/m);
  });
});
