import { createHash, randomInt } from 'node:crypto';
import { canonicalJson } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStatement } from '../src/services/executions/statement-signer.js';
import { randomAwsKey, randomGithubToken, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Issue 7: "Secrets found in arguments or outputs are redacted in stored events, ledger records and logs." Sandbox
// executions used to store the guest's output, logs, errors and host-call audit raw, and hashed the raw output.

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Secrets assembled at run time (no secret-looking literal is committed). */
const secrets = {
  aws: randomAwsKey(),
  github: randomGithubToken(),
  pem: ['-----BEGIN RSA PRIVATE KEY-----', rand(ALNUM, 64), rand(ALNUM, 64), rand(ALNUM, 40), '-----END RSA PRIVATE KEY-----'].join('\n'),
  jwt: `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: rand(ALNUM, 12), name: 'agent', iat: 1_700_000_000 })}.${rand(ALNUM, 43)}`,
};
/** Pieces of each secret that must not survive anywhere (the whole value and its distinctive random parts). */
const fragments = [
  secrets.aws, secrets.aws.slice(0, 10), secrets.aws.slice(10), secrets.github, secrets.github.slice(4, 24),
  ...secrets.pem.split('\n').slice(1, 4), secrets.jwt, secrets.jwt.split('.')[2] ?? '',
];

/**
 * The guest gets each secret reversed in its input (so neither the stored code nor the stored input holds it) and
 * turns it back into the real value at run time: the secret is produced by the agent, as a leak would be.
 */
const GUEST_PRELUDE = `const S = {}; for (const [k, v] of Object.entries(input.reversed)) S[k] = v.split('').reverse().join('');\n`;
const reversed = Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v.split('').reverse().join('')]));

const leaks: Array<[string, string]> = [
  ['an AWS key in a log line', `tollgate.log('deploying with ' + S.aws); return 'ok';`],
  ['a GitHub token as the return value', `return 'token: ' + S.github;`],
  ['a private key block logged line by line', `for (const line of S.pem.split('\\n')) tollgate.log(line); return 1;`],
  ['a JWT in a log object and the output', `tollgate.log({ headers: { authorization: 'Bearer ' + S.jwt } }); return { auth: 'Bearer ' + S.jwt };`],
  ['an AWS key split across two log lines', `tollgate.log('key part one ' + S.aws.slice(0, 10)); tollgate.log(S.aws.slice(10)); return 2;`],
  ['secrets in nested JSON output, as a value, a key and array items', `return { a: { b: [{ deploy: { token: S.github } }] }, [S.aws]: true, pem: S.pem.split('\\n') };`],
  ['an AWS key in a thrown error', `throw new Error('upstream refused key ' + S.aws);`],
  ['a GitHub token in a read_context key (host-call audit)', `try { await tollgate.read_context('cache/' + S.github); } catch (e) {} return 3;`],
];

describe('secrets produced by sandboxed agents are masked in every stored form', () => {
  let t: TestServer;
  let key: string;
  let auditKey: string;
  const executions: Array<{ name: string; id: number; agentId: number; response: unknown }> = [];

  beforeAll(async () => {
    t = await startTestServer({ config: { executionsPerHour: 0 } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    auditKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] })).token;
    for (const [name, code] of leaks) {
      const agent = await t.request('POST', '/api/v1/sdk/agents', {
        key, body: { name: `leaky-${executions.length}`, entry_code: GUEST_PRELUDE + code, config: { sandbox_template: 'STANDARD', permissions: ['data:read'] } },
      });
      expect(agent.status).toBe(201);
      const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input: { reversed } } });
      expect(run.status).toBe(200);
      executions.push({ name, id: run.body.execution_id, agentId: agent.body.agent.id, response: run.body });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const expectNoSecret = (where: string, value: unknown): void => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    for (const fragment of fragments) expect(text.includes(fragment), `${where} holds a piece of a secret: ${fragment.slice(0, 6)}…`).toBe(false);
  };

  it('the agents really produced the secrets (the guest saw the raw input and its output was masked, not empty)', () => {
    const byName = new Map(executions.map((e) => [e.name, e.response as { status: string; output: unknown; error?: { message: string } }]));
    expect(byName.get('a GitHub token as the return value')).toMatchObject({ status: 'completed', output: 'token: [REDACTED:github-pat]' });
    expect(byName.get('an AWS key in a thrown error')).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('upstream refused key [REDACTED:aws-access-token]') } });
    const nested = byName.get('secrets in nested JSON output, as a value, a key and array items')?.output as Record<string, any>;
    expect(nested.a.b[0].deploy.token).toBe('[REDACTED:github-pat]');
    expect(Object.keys(nested)).toContain('[REDACTED:aws-access-token]');
  });

  it.each(leaks.map(([name]) => name))('%s: not in the execute response, the stored detail, the list or the database row', async (name) => {
    const execution = executions.find((e) => e.name === name);
    if (!execution) throw new Error('missing execution');
    expectNoSecret('execute response', execution.response);
    const detail = await t.request('GET', `/api/v1/sdk/agents/${execution.agentId}/executions/${execution.id}`, { key });
    expect(detail.status).toBe(200);
    expectNoSecret('execution detail', detail.body);
    expectNoSecret('execution list', (await t.request('GET', `/api/v1/sdk/agents/${execution.agentId}/executions`, { key })).body);
    expectNoSecret('database row', await t.store.sandboxExecutions.get(t.tenantA.id, execution.id));
  });

  it('masks the pieces of a secret logged across lines in each line that holds one', async () => {
    const execution = executions.find((e) => e.name === 'an AWS key split across two log lines');
    const detail = await t.request('GET', `/api/v1/sdk/agents/${execution?.agentId}/executions/${execution?.id}`, { key });
    expect(detail.body.logs.map((line: { message: string }) => line.message)).toEqual(['key part one [REDACTED:aws-access-token]', '[REDACTED:aws-access-token]']);
  });

  it('masks secrets in the stored input, while the guest still receives the raw input', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'input-echo-length', entry_code: 'return input.note.length;' } });
    const note = `use ${secrets.github} please`;
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input: { note } } });
    expect(run.body.output).toBe(note.length);
    const detail = await t.request('GET', `/api/v1/sdk/agents/${agent.body.agent.id}/executions/${run.body.execution_id}`, { key });
    expect(detail.body.input).toEqual({ note: 'use [REDACTED:github-pat] please' });
    expectNoSecret('stored input', detail.body);
  });

  it('keeps every secret out of the ledger: records, JSON and CSV export, and the SSE audit stream', async () => {
    const records = await t.request('GET', '/api/v1/audit/records?limit=1000', { key: auditKey });
    expect(records.body.events.some((e: { type: string }) => e.type === 'sandbox.host_call')).toBe(true);
    expectNoSecret('audit records', records.body);
    expectNoSecret('JSON export', (await t.request('GET', '/api/v1/audit/export?format=json', { key: auditKey })).body);
    expectNoSecret('CSV export', (await t.request('GET', '/api/v1/audit/export?format=csv', { key: auditKey })).body);
    const lastIndex = (records.body.events.at(-1) as { index: number }).index;
    const stream = await readStream(`${t.url}/api/sdk/audit/stream?since=1970-01-01T00:00:00.000Z`, auditKey, `id: ${lastIndex}\n`);
    expect(stream).toContain('sandbox.execution');
    expectNoSecret('SSE audit stream', stream);
  });

  it('verifies untampered records: the statement hashes the stored (masked) input, output and logs', async () => {
    for (const execution of executions) {
      const proof = await t.request('GET', `/api/v1/sdk/executions/${execution.id}/verify`, { key });
      expect(proof.body, execution.name).toMatchObject({ chain_valid: true, mismatches: [] });
      expect(verifyStatement(proof.body.statement, proof.body.signature)).toBe(true);
      const detail = (await t.request('GET', `/api/v1/sdk/agents/${execution.agentId}/executions/${execution.id}`, { key })).body;
      // Anyone holding the stored record can recompute the signed hashes.
      expect(proof.body.statement).toMatchObject({ input_hash: sha256(detail.input), output_hash: sha256(detail.output), logs_hash: sha256(detail.logs) });
      expect(detail.output_hash).toBe(proof.body.statement.output_hash);
      expectNoSecret('verification', proof.body);
    }
  });

  it.each([
    ['output', (row: Row) => ({ ...row, output: 'something else' }), 'output_hash'],
    ['output and its hash column', (row: Row) => ({ ...row, output: 'forged', outputHash: sha256('forged') }), 'output_hash'],
    ['logs', (row: Row) => ({ ...row, logs: [...row.logs, { t_ms: 1, level: 'info', message: 'inserted later' }] }), 'logs_hash'],
    ['status', (row: Row) => ({ ...row, status: 'completed', error: null }), 'status'],
  ])('detects a stored record whose %s was changed after the fact', async (_what, tamper, field) => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: `tamper-${field}-${randomInt(1e9)}`, entry_code: "tollgate.log('hello'); throw new Error('boom');" } });
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input: { n: 1 } } });
    const verify = () => t.request('GET', `/api/v1/sdk/executions/${run.body.execution_id}/verify`, { key });
    expect((await verify()).body.chain_valid).toBe(true);
    const row = await t.store.sandboxExecutions.get(t.tenantA.id, run.body.execution_id);
    if (!row) throw new Error('missing row');
    await t.store.sandboxExecutions.finish(t.tenantA.id, row.id, tamper(row));
    const proof = (await verify()).body;
    expect(proof.chain_valid).toBe(false);
    expect(proof.mismatches).toContain(field);
  });
});

type Row = NonNullable<Awaited<ReturnType<TestServer['store']['sandboxExecutions']['get']>>>;

function sha256(value: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(value ?? null), 'utf8').digest('hex');
}

/** Reads an SSE response until `marker` arrives (or 5 s pass) and returns the text. */
async function readStream(url: string, apiKey: string, marker: string): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5_000);
  let text = '';
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: abort.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    while (!text.includes(marker)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return text;
}
