import type { IncomingHttpHeaders } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { TLS_CA_FILE, startTlsUpstream } from './fixtures/tls-upstream.js';

// The sandbox's guard drops credential headers on a cross-origin redirect only for the names the server hands it
// (`credentialHeaders`, computed in host-handlers from the `{{credential:NAME}}` references). Nothing tested that
// wiring end to end: had the server stopped passing the names, a vault secret in a custom header such as
// `X-Weather-Key` would have followed a redirect to another allowed origin unnoticed. Two real HTTPS servers on
// loopback (different ports, so different origins) record every header they receive.
const SECRET = 'wk-live-5e1d2c3b4a-REDIRECTSECRET';

interface Received { url: string; headers: IncomingHttpHeaders }

/** A recording upstream; `route` may answer a path itself (a redirect), otherwise the received headers are echoed. */
function startUpstream(log: Received[], route: (url: string) => { status: number; location: string } | undefined): Promise<Server> {
  return startTlsUpstream((request, response) => {
    const url = request.url ?? '';
    log.push({ url, headers: request.headers });
    const redirect = route(url);
    if (redirect) {
      response.writeHead(redirect.status, { location: redirect.location });
      response.end();
      return;
    }
    // Echoing what arrived is the worst case for the guest seeing a secret, and lets the test read the second hop.
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ path: url, headers: request.headers }));
  });
}

/** Every header value a server received, flattened, so a secret under any name (or split into a list) is found. */
function headerValues(request: Received | undefined): string {
  return JSON.stringify(Object.values(request?.headers ?? {}));
}

describe('sandbox http_request: vault credentials and redirects, as the server wires them', () => {
  const receivedA: Received[] = [];
  const receivedB: Received[] = [];
  let t: TestServer;
  let serverA: Server;
  let serverB: Server;
  let urlA: string;
  let urlB: string;
  let key: string;

  beforeAll(async () => {
    serverB = await startUpstream(receivedB, () => undefined);
    urlB = `https://127.0.0.1:${(serverB.address() as AddressInfo).port}`;
    serverA = await startUpstream(receivedA, (url) => {
      if (url === '/cross') return { status: 302, location: `${urlB}/landed` };
      if (url === '/same') return { status: 302, location: '/landed-here' };
      return undefined;
    });
    urlA = `https://127.0.0.1:${(serverA.address() as AddressInfo).port}`;
    t = await startTestServer({ config: { sandboxEgressAllow: ['127.0.0.1/32'], sandboxEgressCaFile: TLS_CA_FILE } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    const created = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'weather', value: SECRET, type: 'api_key' } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    for (const server of [serverA, serverB]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
  });
  beforeEach(() => {
    receivedA.length = 0;
    receivedB.length = 0;
  });

  /** Runs guest code that calls `path` on server A with one credential header, logs and returns the response. */
  const runWithHeader = async (name: string, header: string, value: string, path: string) => {
    const entry = `
      const response = await thetazero.http_request(input.url, 'GET', { ${JSON.stringify(header)}: ${JSON.stringify(value)} });
      await thetazero.log('received ' + JSON.stringify(response));
      return response.body;`;
    const portA = new URL(urlA).port;
    const portB = new URL(urlB).port;
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key,
      body: {
        name, entry_code: entry,
        config: {
          sandbox_template: 'STANDARD', permissions: ['network:outbound'], credentials: ['weather'],
          allowed_domains: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`],
        },
      },
    });
    expect(agent.status).toBe(201);
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input: { url: `${urlA}${path}` } } });
    expect(run.status).toBe(200);
    const detail = await t.request('GET', `/api/v1/sdk/agents/${agent.body.agent.id}/executions/${run.body.execution_id}`, { key });
    expect(detail.status).toBe(200);
    return { run: run.body, detail: detail.body };
  };

  it.each([
    ['a custom header (dropped only because the server names it)', 'X-Weather-Key', '{{credential:weather}}', SECRET],
    ['Authorization', 'Authorization', 'Bearer {{credential:weather}}', `Bearer ${SECRET}`],
  ])('drops the vault credential in %s when a redirect leaves the origin', async (_label, header, value, sent) => {
    const { run, detail } = await runWithHeader(`cross-${header.toLowerCase()}`, header, value, '/cross');
    expect(run.status).toBe('completed');
    // Server A, the origin the guest named, received the real secret...
    expect(receivedA).toHaveLength(1);
    expect(receivedA[0]?.headers[header.toLowerCase()]).toBe(sent);
    // ...server B, another allowed origin, received the redirected request but the secret under no name at all.
    expect(receivedB.map((r) => r.url)).toEqual(['/landed']);
    expect(receivedB[0]?.headers[header.toLowerCase()]).toBeUndefined();
    expect(headerValues(receivedB[0])).not.toContain(SECRET);
    expect(headerValues(receivedB[0])).not.toContain('REDIRECTSECRET');
    expect(run.output).toMatchObject({ path: '/landed' });
    expect(JSON.stringify([run, detail])).not.toContain('REDIRECTSECRET');
  });

  it('keeps the credential header on a redirect within the same origin', async () => {
    const { run } = await runWithHeader('same-origin', 'X-Weather-Key', '{{credential:weather}}', '/same');
    expect(run.status).toBe('completed');
    expect(receivedA.map((r) => r.url)).toEqual(['/same', '/landed-here']);
    expect(receivedA.map((r) => r.headers['x-weather-key'])).toEqual([SECRET, SECRET]);
    expect(receivedB).toEqual([]);
  });

  it('never shows the guest the secret in clear: the echoed header, the output and the logs carry the redacted form', async () => {
    const { run, detail } = await runWithHeader('echo-after-redirect', 'X-Weather-Key', '{{credential:weather}}', '/same');
    expect(receivedA[1]?.headers['x-weather-key']).toBe(SECRET);
    // The upstream echoed the secret back; the guest saw only the placeholder, in what it returned and what it logged.
    expect(run.output).toMatchObject({ path: '/landed-here', headers: { 'x-weather-key': '[credential:weather]' } });
    const messages = (detail.logs as Array<{ message: string }>).map((line) => line.message);
    expect(messages).toEqual([expect.stringContaining('[credential:weather]')]);
    expect(JSON.stringify([run, detail])).not.toContain(SECRET);
    expect(JSON.stringify([run, detail])).not.toContain('REDIRECTSECRET');
  });
});
