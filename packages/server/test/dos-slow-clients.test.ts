import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Slowloris: Fastify turns Node's request timeout off by default, so a client that sent its headers and then
// one body byte now and then (no key needed: POST /api/v1/session is public) held its connection and socket
// forever; enough of them ran the process out of file descriptors for everyone.

const policy = `
name: slow
agents:
  "*": { approvedScope: [refund] }
rules:
  - { id: big-refund, match: { tools: [refund] }, when: "args.amount > 500", effect: STEP_UP, reason: large refund }
`;

/** Opens a raw connection, writes `bytes`, and resolves with what the server sent once it closes the connection. */
function sendAndWaitForClose(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

/** The JSON body of a raw HTTP answer. */
function envelopeOf(answer: string): { error: { code: string; message: string; requestId: string } } {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string; requestId: string } };
}

describe('DoS: slow clients', () => {
  let t: TestServer;
  let port: number;

  beforeAll(async () => {
    t = await startTestServer({ config: { requestTimeoutMs: 1_000 } as never });
    port = Number(new URL(t.url).port);
  });
  afterAll(async () => {
    await t.close();
  });

  it('closes a connection whose body never finishes arriving with 408, without a key', async () => {
    const head = 'POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiKey":';
    const closed = sendAndWaitForClose(port, head);
    // Others are served meanwhile.
    expect((await rawRequest(`${t.url}/healthz`, { method: 'GET' })).status).toBe(200);
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
  }, 20_000);

  it('closes a connection whose headers never finish with 408', async () => {
    const answer = await sendAndWaitForClose(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(envelopeOf(answer).error.code).toBe('REQUEST_TIMEOUT');
  }, 20_000);

  // Regression: requests Node's parser refuses got Fastify's own body ({"error":"Request Header Fields Too Large",
  // "statusCode":431}) instead of the envelope every other error has.
  it('answers oversized headers (431) and a malformed request line (400) with the envelope, then closes', async () => {
    const big = await sendAndWaitForClose(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    const bigBody = envelopeOf(big);
    expect(bigBody.error.code).toBe('HEADERS_TOO_LARGE');
    expect(bigBody.error.requestId).toMatch(/\S+/);
    const garbage = await sendAndWaitForClose(port, 'NOT A REQUEST\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(envelopeOf(garbage).error.code).toBe('BAD_REQUEST');
    expect((await rawRequest(`${t.url}/healthz`, { method: 'GET' })).status).toBe(200);
  }, 20_000);

  it('leaves a long poll that waits longer than the request timeout alone (the request itself arrived)', async () => {
    const key = t.tenantA.adminKey;
    expect((await t.request('POST', '/api/v1/policies', { key, body: { name: 'slow', source: policy, activate: true } })).status).toBe(201);
    const held = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'bot', toolName: 'refund', arguments: { amount: 900 } } });
    expect(held.body.decision).toBe('STEP_UP');
    const poll = await rawRequest(`${t.url}/v1/enforce/hold/${held.body.holdToken}?waitMs=2500`, { method: 'GET', headers: { authorization: `Bearer ${key}` } });
    expect(poll.status).toBe(200);
    expect(JSON.parse(poll.text).status).toBe('pending');
  }, 20_000);
});
