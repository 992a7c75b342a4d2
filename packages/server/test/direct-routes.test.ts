// The direct path of the hot routes (http/direct-routes.ts) must answer exactly as Fastify does. Two servers with the
// same admin key, one with the direct path and one without (TOLLGATE_HTTP_DIRECT_ROUTES=false), get the same requests;
// their answers are compared after the ids that differ by nature (request, decision and violation ids) are masked.
// The metric `tollgate_http_direct_requests_total` proves which requests the direct path took.
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, generateApiKey, loadConfig, startTollgate, type RunningTollgate } from '@tollgate/server';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, startTestServer, type RawResponse, type TestServer } from '../../../test-utils/index.js';

const ADMIN_KEY = generateApiKey().token;

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** What a client can observe of an answer, with the ids that differ between two servers masked. */
function observable(response: RawResponse) {
  const text = response.text
    .replace(/"requestId":"[^"]+"/g, '"requestId":"<id>"')
    .replace(/"(decisionId|violationId|keyId)":"[^"]+"/g, '"$1":"<id>"');
  return {
    status: response.status,
    contentType: response.headers['content-type'],
    retryAfter: response.headers['retry-after'],
    hasRequestId: typeof response.headers['x-request-id'] === 'string',
    body: text,
  };
}

async function directServed(t: TestServer): Promise<number> {
  const metrics = await t.request('GET', '/metrics');
  const match = /^tollgate_http_direct_requests_total (\d+)$/m.exec(String(metrics.body));
  if (!match) throw new Error('tollgate_http_direct_requests_total missing from /metrics');
  return Number(match[1]);
}

/** Sends a body with `Transfer-Encoding: chunked` (no content-length). */
function chunkedRequest(url: string, headers: Record<string, string>, body: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), streamed: false }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 5));
    req.end(body.slice(5));
  });
}

describe('direct path of the hot routes', () => {
  let direct: TestServer;
  let fastifyOnly: TestServer;
  /** Same scopes on both servers; ids differ and are masked. */
  const keys = { direct: {} as Record<string, string>, fastify: {} as Record<string, string> };

  beforeAll(async () => {
    direct = await startTestServer({ config: { adminKey: ADMIN_KEY } });
    fastifyOnly = await startTestServer({ config: { adminKey: ADMIN_KEY, httpDirectRoutes: false } });
    for (const [name, server] of [['direct', direct], ['fastify', fastifyOnly]] as const) {
      keys[name].enforce = (await server.services.keys.create({ tenantId: 'default', scopes: ['enforce'], name: 'enforce' })).token;
      keys[name].audit = (await server.services.keys.create({ tenantId: 'default', scopes: ['audit:read'], name: 'audit' })).token;
      // Authenticate every key once through Fastify, so the direct path finds them in the cache.
      for (const key of Object.values(keys[name])) await server.request('GET', '/api/v1/auth/whoami', { key });
      await server.request('GET', '/api/v1/auth/whoami', { key: ADMIN_KEY });
    }
  });

  afterAll(async () => {
    await direct?.close();
    await fastifyOnly?.close();
  });

  /** Sends `sent` to both servers (`{enforce}`/`{audit}` in headers name a key of that server) and compares. */
  async function both(sent: Sent): Promise<{ answer: ReturnType<typeof observable>; tookDirect: boolean }> {
    const answers = [];
    let tookDirect = false;
    for (const [name, server] of [['direct', direct], ['fastify', fastifyOnly]] as const) {
      const headers: Record<string, string> = {};
      for (const [header, value] of Object.entries(sent.headers ?? {})) headers[header] = value.replace(/\{(\w+)\}/g, (_, key: string) => keys[name][key] ?? ADMIN_KEY);
      const before = name === 'direct' ? await directServed(server) : 0;
      const response = await rawRequest(`${server.url}${sent.path}`, { method: sent.method, headers, ...(sent.body === undefined ? {} : { body: sent.body }) });
      if (name === 'direct') tookDirect = (await directServed(server)) > before;
      answers.push(observable(response));
    }
    expect(answers[0]).toEqual(answers[1]);
    return { answer: answers[0]!, tookDirect };
  }

  const json = { 'content-type': 'application/json' };
  const enforceKey = { authorization: 'Bearer {enforce}' };

  it('answers whoami directly, with the same body and headers as Fastify', async () => {
    const { answer, tookDirect } = await both({ method: 'GET', path: '/api/v1/auth/whoami', headers: { authorization: 'Bearer {admin}' } });
    expect(tookDirect).toBe(true);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ tenantId: 'default', keyId: '<id>', scopes: ['admin'] });
    expect(answer.contentType).toBe('application/json; charset=utf-8');
    expect(answer.hasRequestId).toBe(true);
    const viaApiKeyHeader = await both({ method: 'GET', path: '/api/v1/auth/whoami', headers: { 'x-api-key': '{audit}' } });
    expect(viaApiKeyHeader.tookDirect).toBe(true);
    expect(JSON.parse(viaApiKeyHeader.answer.body).scopes).toEqual(['audit:read']);
  });

  it('decides /v1/enforce directly, recording the decision as Fastify does', async () => {
    const body = JSON.stringify({ agentId: 'direct-agent', toolName: 'send_email', arguments: { to: 'a@example.com' } });
    const { answer, tookDirect } = await both({ method: 'POST', path: '/v1/enforce', headers: { ...json, ...enforceKey }, body });
    expect(tookDirect).toBe(true);
    expect(answer.status).toBe(200);
    const decision = JSON.parse(answer.body);
    expect(decision.decision).toBe('BLOCK');
    expect(decision.reason).toMatch(/no policy/);
    // Recorded: the audit API of the direct server lists the decision.
    const audit = await direct.request('GET', '/api/v1/audit/records?limit=50', { key: ADMIN_KEY });
    expect(JSON.stringify(audit.body)).toContain('direct-agent');
  });

  it('refuses bad bodies on the direct path with Fastify’s envelopes', async () => {
    const cases: Array<[string, string | Buffer, number, string]> = [
      ['truncated JSON', '{"agentId":"a","toolName":"t"', 400, 'INVALID_JSON'],
      ['wrong type', '{"agentId":"a","toolName":5}', 400, 'VALIDATION_FAILED'],
      ['missing field', '{"agentId":"a"}', 400, 'VALIDATION_FAILED'],
      ['extra field', '{"agentId":"a","toolName":"t","admin":true}', 400, 'VALIDATION_FAILED'],
      ['__proto__ key', '{"agentId":"a","toolName":"t","__proto__":{"polluted":1}}', 400, 'INVALID_JSON'],
      ['constructor.prototype', '{"agentId":"a","toolName":"t","arguments":{"constructor":{"prototype":{"x":1}}}}', 400, 'INVALID_JSON'],
      ['NUL in a string', '{"agentId":"a\\u0000b","toolName":"t"}', 400, 'VALIDATION_FAILED'],
      ['NUL and a type error: the NUL is reported', '{"agentId":"a\\u0000b","toolName":5}', 400, 'VALIDATION_FAILED'],
      ['unpaired surrogate', '{"agentId":"a","toolName":"t","arguments":{"x":"\\ud800"}}', 400, 'VALIDATION_FAILED'],
      ['JSON null', 'null', 400, 'VALIDATION_FAILED'],
      ['JSON array', '[1,2]', 400, 'VALIDATION_FAILED'],
      ['other tenant', '{"agentId":"a","toolName":"t","tenantId":"tenant-b"}', 403, 'TENANT_MISMATCH'],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"agentId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","toolName":"t"}')]), 200, ''],
    ];
    for (const [name, body, status, code] of cases) {
      const { answer, tookDirect } = await both({ method: 'POST', path: '/v1/enforce', headers: { ...json, ...enforceKey }, body });
      expect({ name, tookDirect }).toEqual({ name, tookDirect: true });
      expect({ name, status: answer.status }).toEqual({ name, status });
      if (code) expect({ name, code: JSON.parse(answer.body).error.code }).toEqual({ name, code });
    }
  });

  it('leaves everything unusual to Fastify, whose answers are unchanged', async () => {
    const valid = '{"agentId":"a","toolName":"t"}';
    const cases: Array<[string, Sent, number]> = [
      ['no key', { method: 'POST', path: '/v1/enforce', headers: json, body: valid }, 401],
      ['unknown key', { method: 'POST', path: '/v1/enforce', headers: { ...json, authorization: `Bearer ${generateApiKey().token}` }, body: valid }, 401],
      ['malformed key', { method: 'GET', path: '/api/v1/auth/whoami', headers: { authorization: 'Bearer not-a-key' } }, 401],
      ['key lacking the scope', { method: 'POST', path: '/v1/enforce', headers: { ...json, authorization: 'Bearer {audit}' }, body: valid }, 403],
      ['two different keys', { method: 'GET', path: '/api/v1/auth/whoami', headers: { authorization: 'Bearer {admin}', 'x-api-key': '{audit}' } }, 401],
      ['lower-case bearer', { method: 'GET', path: '/api/v1/auth/whoami', headers: { authorization: 'bearer {admin}' } }, 200],
      ['query string', { method: 'GET', path: '/api/v1/auth/whoami?x=1', headers: { authorization: 'Bearer {admin}' } }, 200],
      ['trailing slash', { method: 'GET', path: '/api/v1/auth/whoami/', headers: { authorization: 'Bearer {admin}' } }, 404],
      ['text/plain body (a string, refused by the schema)', { method: 'POST', path: '/v1/enforce', headers: { 'content-type': 'text/plain', ...enforceKey }, body: valid }, 400],
      ['latin-1 JSON', { method: 'POST', path: '/v1/enforce', headers: { 'content-type': 'application/json; charset=latin1', ...enforceKey }, body: valid }, 200],
      ['empty body', { method: 'POST', path: '/v1/enforce', headers: { ...json, ...enforceKey }, body: '' }, 400],
      ['content-encoding header (Fastify ignores it and reads the body as sent)', { method: 'POST', path: '/v1/enforce', headers: { ...json, ...enforceKey, 'content-encoding': 'gzip' }, body: valid }, 200],
      ['HEAD', { method: 'HEAD', path: '/api/v1/auth/whoami', headers: { authorization: 'Bearer {admin}' } }, 200],
    ];
    for (const [name, sent, status] of cases) {
      const { answer, tookDirect } = await both(sent);
      expect({ name, tookDirect, status: answer.status }).toEqual({ name, tookDirect: false, status });
    }
  });

  it('stops serving a key the moment it is revoked or expires, though the key was cached', async () => {
    const { record, token } = await direct.services.keys.create({ tenantId: 'default', scopes: ['enforce'], name: 'short-lived', expiresAt: Date.now() + 1500 });
    const body = { agentId: 'a', toolName: 't' };
    const first = await direct.request('POST', '/v1/enforce', { key: token, body }); // caches the key
    expect(first.status).toBe(200);
    const before = await directServed(direct);
    expect((await direct.request('POST', '/v1/enforce', { key: token, body })).status).toBe(200);
    expect(await directServed(direct)).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const expired = await direct.request('POST', '/v1/enforce', { key: token, body });
    expect({ status: expired.status, code: expired.body.error.code, message: expired.body.error.message }).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: 'API key expired' });

    const other = await direct.services.keys.create({ tenantId: 'default', scopes: ['enforce'], name: 'to revoke' });
    expect((await direct.request('POST', '/v1/enforce', { key: other.token, body })).status).toBe(200);
    expect((await direct.request('POST', '/v1/enforce', { key: other.token, body })).status).toBe(200);
    const revoke = await direct.request('POST', `/api/v1/keys/${other.record.id}/revoke`, { key: ADMIN_KEY });
    expect(revoke.status).toBe(200);
    const revoked = await direct.request('POST', '/v1/enforce', { key: other.token, body });
    expect({ status: revoked.status, message: revoked.body.error.message }).toEqual({ status: 401, message: 'API key revoked' });
    const whoami = await direct.request('GET', '/api/v1/auth/whoami', { key: other.token });
    expect(whoami.status).toBe(401);
    expect(record.id).not.toBe(other.record.id);
  });

  it('never lets a cached key act for another tenant', async () => {
    const tenantAEnforce = (await direct.services.keys.create({ tenantId: 'tenant-a', scopes: ['enforce'], name: 'a enforce' })).token;
    await direct.request('GET', '/api/v1/auth/whoami', { key: tenantAEnforce });
    const before = await directServed(direct);
    const refused = await direct.request('POST', '/v1/enforce', { key: tenantAEnforce, body: { agentId: 'x', toolName: 't', tenantId: 'tenant-b' } });
    expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 403, code: 'TENANT_MISMATCH' });
    const own = await direct.request('POST', '/v1/enforce', { key: tenantAEnforce, body: { agentId: 'only-in-a', toolName: 't' } });
    expect(own.status).toBe(200);
    expect(await directServed(direct)).toBe(before + 2);
    // The decision landed in tenant A's records, not in tenant B's nor the default tenant's.
    const inB = await direct.request('GET', '/api/v1/audit/records?limit=200', { key: direct.tenantB.adminKey });
    const inDefault = await direct.request('GET', '/api/v1/audit/records?limit=200', { key: ADMIN_KEY });
    const inA = await direct.request('GET', '/api/v1/audit/records?limit=200', { key: direct.tenantA.adminKey });
    expect(JSON.stringify(inA.body)).toContain('only-in-a');
    expect(JSON.stringify(inB.body)).not.toContain('only-in-a');
    expect(JSON.stringify(inDefault.body)).not.toContain('only-in-a');
  });

  it('leaves bodies over the limit and chunked bodies to Fastify', async () => {
    const huge = JSON.stringify({ agentId: 'a', toolName: 't', arguments: { blob: 'x'.repeat(direct.config.bodyLimitBytes) } });
    const tooLarge = await both({ method: 'POST', path: '/v1/enforce', headers: { ...json, ...enforceKey }, body: huge });
    expect({ tookDirect: tooLarge.tookDirect, status: tooLarge.answer.status }).toEqual({ tookDirect: false, status: 413 });
    const before = await directServed(direct);
    const chunked = await chunkedRequest(`${direct.url}/v1/enforce`, { ...json, authorization: `Bearer ${keys.direct.enforce}` }, '{"agentId":"a","toolName":"t"}');
    expect(chunked.status).toBe(200);
    expect(await directServed(direct)).toBe(before);
  });

  it('reuses a well-formed X-Request-Id and replaces a bad one, as Fastify does', async () => {
    for (const server of [direct, fastifyOnly]) {
      const good = await rawRequest(`${server.url}/api/v1/auth/whoami`, { method: 'GET', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-request-id': 'trace-123.abc' } });
      expect(good.headers['x-request-id']).toBe('trace-123.abc');
      const bad = await rawRequest(`${server.url}/api/v1/auth/whoami`, { method: 'GET', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-request-id': 'has spaces<script>' } });
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-z]{10}-[0-9a-z]+$/);
    }
  });

  it('counts direct requests in the HTTP metrics under their route', async () => {
    const count = async () => {
      const metrics = String((await direct.request('GET', '/metrics')).body);
      const match = /^tollgate_http_requests_total\{method="GET",route="\/api\/v1\/auth\/whoami",status="200"\} (\d+)$/m.exec(metrics);
      return Number(match?.[1] ?? 0);
    };
    const before = await count();
    for (let i = 0; i < 3; i += 1) await direct.request('GET', '/api/v1/auth/whoami', { key: ADMIN_KEY });
    expect(await count()).toBe(before + 3);
  });

  it('survives an upload cut off mid-body and keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${direct.url}/v1/enforce`, { method: 'POST', agent: false, headers: { ...json, authorization: `Bearer ${keys.direct.enforce}`, 'content-length': '1000' } });
      req.on('error', () => resolve());
      req.write('{"agentId":"a",', () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    const after = await direct.request('POST', '/v1/enforce', { key: keys.direct.enforce, body: { agentId: 'a', toolName: 't' } });
    expect(after.status).toBe(200);
  });
});

describe('direct path logging', () => {
  let running: RunningTollgate;
  let dataDir: string;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tollgate-direct-log-'));
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey: ADMIN_KEY, logLevel: 'info' });
    running = await startTollgate({ config, logger: createLogger('info', sink) });
  });

  afterAll(async () => {
    await running?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes the same incoming/completed lines as Fastify, with the request id and no key', async () => {
    const get = () => rawRequest(`${running.url}/api/v1/auth/whoami`, { method: 'GET', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const viaFastify = await get(); // first use of the key: looked up through Fastify's auth hook
    const viaDirect = await get();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const linesOf = (requestId: unknown) => lines.filter((line) => line['reqId'] === requestId);
    const fastifyLines = linesOf(viaFastify.headers['x-request-id']);
    const directLines = linesOf(viaDirect.headers['x-request-id']);
    const shape = (line: Record<string, unknown>) => ({
      msg: line['msg'],
      level: line['level'],
      keys: Object.keys(line).sort(),
      req: line['req'] === undefined ? undefined : Object.keys(line['req'] as object).sort(),
      res: line['res'],
    });
    expect(directLines.map(shape)).toEqual(fastifyLines.map(shape));
    expect(directLines.map((line) => line['msg'])).toEqual(['incoming request', 'request completed']);
    expect(JSON.stringify(lines)).not.toContain(ADMIN_KEY.slice(-20));
  });
});
