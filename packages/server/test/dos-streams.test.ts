import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Denial of service by long-lived requests: one tenant's key opened SSE streams and hold long polls without any
// limit, each holding a socket, listeners and timers, and each ledger append of the tenant woke every stream
// (a database read and a credential check per stream), so one key could exhaust the process for every tenant.

const LIMIT = 4;
const policy = `
name: dos
agents:
  "*": { approvedScope: [refund] }
rules:
  - { id: big-refund, match: { tools: [refund] }, when: "args.amount > 500", effect: STEP_UP, reason: large refund }
`;

interface OpenStream {
  readonly status: number;
  readonly response: IncomingMessage;
  close(): void;
}

/** Opens a request and resolves once its response headers arrive; the connection stays open until close(). */
function open(url: string, key: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpRequest(url, { headers: { authorization: `Bearer ${key}` }, agent: false }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, response, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DoS: long-lived requests per tenant', () => {
  let t: TestServer;
  let key: string;
  /** LIMIT keys: one key may hold only a quarter of the tenant's slots (1 of 4 here). */
  let keys: string[];
  let holdToken: string;
  const opened: OpenStream[] = [];

  beforeAll(async () => {
    t = await startTestServer({ config: { maxStreamsPerTenant: LIMIT } as never });
    key = t.tenantA.adminKey;
    keys = await Promise.all(Array.from({ length: LIMIT }, async () => (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['admin'] })).token));
    expect((await t.request('POST', '/api/v1/policies', { key, body: { name: 'dos', source: policy, activate: true } })).status).toBe(201);
    const held = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'bot', toolName: 'refund', arguments: { amount: 900 } } });
    expect(held.body.decision).toBe('STEP_UP');
    holdToken = held.body.holdToken;
  });
  afterAll(async () => {
    for (const stream of opened) stream.close();
    await t.close();
  });

  const get = (path: string, withKey = key, timeoutMs?: number) =>
    rawRequest(`${t.url}${path}`, { method: 'GET', headers: { authorization: `Bearer ${withKey}` }, ...(timeoutMs ? { timeoutMs } : {}) });

  it('refuses a tenant\'s streams and long polls beyond the cap with 429 RATE_LIMITED, and serves other tenants', async () => {
    for (const [i, path] of ['/api/sdk/audit/stream', '/api/sdk/audit/stream', '/api/v1/approvals/stream', '/api/v1/approvals/stream'].entries()) {
      const stream = await open(`${t.url}${path}`, keys[i]!);
      opened.push(stream);
      expect(stream.status).toBe(200);
    }
    for (const path of ['/api/sdk/audit/stream', '/api/v1/approvals/stream', `/v1/enforce/hold/${holdToken}?waitMs=3000`]) {
      const refused = await get(path);
      expect(refused.status, path).toBe(429);
      expect(JSON.parse(refused.text).error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // A status read without waiting holds nothing and is still answered.
    expect((await get(`/v1/enforce/hold/${holdToken}`)).status).toBe(200);
    // Another tenant and the public routes are unaffected.
    const other = await get('/api/sdk/audit/stream', t.tenantB.adminKey);
    expect(other.status).toBe(200);
    expect(other.streamed).toBe(true);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('gives the slot back when a stream closes', async () => {
    opened.pop()?.close();
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt += 1) {
      status = (await get('/api/sdk/audit/stream')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(200);
  });

  it('counts hold long polls while they wait', async () => {
    for (const stream of opened.splice(0)) stream.close();
    const polls = Array.from({ length: LIMIT }, (_, i) => get(`/v1/enforce/hold/${holdToken}?waitMs=30000`, keys[i]!, 40_000).catch(() => undefined));
    let status = 0;
    for (let attempt = 0; attempt < 200 && status !== 429; attempt += 1) {
      status = (await get('/api/v1/approvals/stream')).status;
      if (status !== 429) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(429);
    // Deciding the hold ends the polls and frees their slots.
    expect((await t.request('POST', `/api/v1/approvals/${holdToken}/deny`, { key })).status).toBe(200);
    const answers = await Promise.all(polls);
    expect(answers.map((answer) => answer?.status)).toEqual(Array(LIMIT).fill(200));
    let after = 0;
    for (let attempt = 0; attempt < 100 && after !== 200; attempt += 1) {
      after = (await get('/api/v1/approvals/stream')).status;
      if (after !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(after).toBe(200);
  }, 60_000);
});
