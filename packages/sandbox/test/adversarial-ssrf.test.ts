import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guardedHttpRequest, PERMISSIONS, SandboxSupervisor } from '../src/index.js';
import type { HostHandlers, HostResolver } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// SSRF attempts made by guest code through tollgate.http_request, with the egress guard as the handler (as the
// server wires it). No outside network: a stub resolver and one loopback server. Plain HTTP and 127.0.0.1 are
// allowed explicitly for that test server only; everything else private stays refused.
const zone: Record<string, string[]> = {
  'loopback.test': ['127.0.0.1'],
  'second.test': ['127.0.0.1'],
  'internal.test': ['10.0.0.5'],
  'rebind.test': ['93.184.215.14', '127.0.0.2'],
  'metadata-alias.test': ['169.254.169.254'],
  'v6.test': ['fd00:ec2::254'],
};
const resolver: HostResolver = async (host) => {
  const records = zone[host];
  if (!records) throw new Error('NXDOMAIN');
  return records.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const hits: string[] = [];
const server = createServer((req, res) => {
  hits.push(req.url ?? '');
  const port = (server.address() as AddressInfo).port;
  const redirects: Record<string, string> = {
    '/to-metadata': 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    '/to-internal': 'http://internal.test/admin',
    '/to-other-loopback': `http://127.0.0.2:${port}/secret`,
    '/to-mapped': 'http://[::ffff:127.0.0.1]/',
  };
  const location = redirects[req.url ?? ''];
  if (location) { res.writeHead(302, { location }); res.end(); return; }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ reached: req.url }));
});

let sandbox: SandboxSupervisor;
let base = '';
const handlers: HostHandlers = {
  http_request: (request, context) => guardedHttpRequest(request, {
    allowedDomains: context.config.allowed_domains, allowHttp: true, allowedAddressRanges: ['127.0.0.1/32'], resolver,
    signal: context.signal,
  }),
};

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://loopback.test:${(server.address() as AddressInfo).port}`;
  sandbox = new SandboxSupervisor({ maxWorkers: 1, allowHttpEgress: true });
  await sandbox.start();
});
afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((r) => server.close(() => r()));
});

const attempt = (url: string): Promise<ReturnType<typeof runCode> extends Promise<infer R> ? R : never> =>
  runCode(sandbox, `try { return await tollgate.http_request(${JSON.stringify(url)}) } catch (e) { return { code: e.code, message: e.message } }`,
    { permissions: [...PERMISSIONS.CODER], allow_network: true }, { handlers });

describe('SSRF through http_request', () => {
  it('reaches the explicitly allowed loopback test server (control case)', async () => {
    const result = await attempt(`${base}/ok`);
    expect(result.output).toMatchObject({ status: 200, body: { reached: '/ok' } });
  });

  it.each([
    ['a loopback address outside the test allowance', 'https://127.0.0.2/', /loopback/],
    ['the allowed loopback address in IPv4-mapped form', 'https://[::ffff:127.0.0.1]/', /ipv4-mapped/],
    ['IPv6 loopback', 'https://[::1]/', /loopback/],
    ['the cloud metadata IP', 'https://169.254.169.254/latest/meta-data/', /metadata/],
    ['the metadata IP in decimal', 'https://2852039166/latest/meta-data/', /metadata/],
    ['IPv4-mapped metadata', 'https://[::ffff:169.254.169.254]/', /ipv4-mapped/],
    ['AWS IPv6 metadata', 'https://[fd00:ec2::254]/', /metadata/],
    ['the GCP metadata name', 'https://metadata.google.internal/computeMetadata/v1/', /metadata endpoint/],
    ['a name resolving to a private address', 'https://internal.test/', /private/],
    ['a name with one public and one loopback answer', 'https://rebind.test/', /loopback/],
    ['a name resolving to the metadata IP', 'https://metadata-alias.test/', /metadata/],
    ['a name resolving to AWS IPv6 metadata', 'https://v6.test/', /metadata/],
    ['a redirect to the metadata IP', '/to-metadata', /metadata/],
    ['a redirect to a name resolving to a private address', '/to-internal', /private/],
    ['a redirect to a non-allowed loopback address', '/to-other-loopback', /loopback/],
    ['a redirect to an IPv4-mapped address', '/to-mapped', /ipv4-mapped/],
  ])('refuses %s', async (_name, target, reason) => {
    hits.length = 0;
    const url = target.startsWith('/') ? `${base}${target}` : target;
    const result = await attempt(url);
    expect(result.status).toBe('completed');
    expect(result.output).toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(reason) });
    expect(result.host_call_audit).toMatchObject([{ fn: 'http_request', allowed: false }]);
    expect(result.violations).toMatchObject([{ kind: 'network_denied', fn: 'http_request' }]);
    // Only the first hop of a redirect case ever reaches the test server; the refused target is never connected to.
    expect(hits).toEqual(target.startsWith('/') ? [target] : []);
  });
});

// Ports and credential headers across origins, with two real loopback servers ("first" and "second", on two random
// ports) that record the headers they receive. The handler plays the server's vault: a header whose value holds
// `{{credential:weather}}` gets the secret and is reported to the guard as a credential header.
describe('ports of allowed hosts, and credential headers across redirects', () => {
  const VAULT_SECRET = 'vault-s3cret-weather';
  type Received = { server: 'first' | 'second'; url: string; headers: IncomingHttpHeaders };
  const received: Received[] = [];
  const recorder = (name: Received['server']) => createServer((req, res) => {
    received.push({ server: name, url: req.url ?? '', headers: req.headers });
    const redirects: Record<string, string> = {
      '/to-second': `${secondBase}/landed`,
      '/to-first-host-second-port': `http://loopback.test:${secondPort}/landed`,
      '/to-self': '/landed',
      '/to-self-upper-case': `http://LOOPBACK.TEST:${firstPort}/landed`,
      '/to-second-and-back': `${secondBase}/back-to-first`,
      '/back-to-first': `${firstBase}/landed`,
    };
    const location = redirects[req.url ?? ''];
    if (location) { res.writeHead(307, { location }); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ reached: req.url }));
  });
  const first = recorder('first');
  const second = recorder('second');
  let firstPort = 0;
  let secondPort = 0;
  let firstBase = '';
  let secondBase = '';
  const vaultHandlers: HostHandlers = {
    http_request: (request, context) => {
      const reference = '{{credential:weather}}';
      const credentialHeaders = Object.keys(request.headers).filter((name) => request.headers[name]?.includes(reference));
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, value.replaceAll(reference, VAULT_SECRET)]));
      return guardedHttpRequest({ ...request, headers }, {
        allowedDomains: context.config.allowed_domains, allowHttp: true, allowedAddressRanges: ['127.0.0.1/32'], resolver,
        credentialHeaders, signal: context.signal, onRedirect: context.onRedirect,
      });
    },
  };
  const call = (url: string, allowedDomains: string[], headers: Record<string, string> = {}): ReturnType<typeof runCode> =>
    runCode(sandbox, `try { return await tollgate.http_request(${JSON.stringify(url)}, 'GET', ${JSON.stringify(headers)}) } catch (e) { return { code: e.code, message: e.message } }`,
      { permissions: [...PERMISSIONS.CODER], allow_network: true, allowed_domains: allowedDomains }, { handlers: vaultHandlers });

  beforeAll(async () => {
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => second.listen(0, '127.0.0.1', r));
    firstPort = (first.address() as AddressInfo).port;
    secondPort = (second.address() as AddressInfo).port;
    firstBase = `http://loopback.test:${firstPort}`;
    secondBase = `http://second.test:${secondPort}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => first.close(() => r()));
    await new Promise<void>((r) => second.close(() => r()));
  });
  beforeEach(() => { received.length = 0; });

  const expectRefused = (result: Awaited<ReturnType<typeof runCode>>, reason: RegExp): void => {
    expect(result.output).toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(reason) });
    expect(result.violations).toMatchObject([{ kind: 'network_denied', fn: 'http_request' }]);
  };
  // The first URL is checked (host and port) by the broker before any handler runs; redirect hops by the guard.
  const expectDomainRefused = (result: Awaited<ReturnType<typeof runCode>>, reason: RegExp): void => {
    expect(result.output).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(reason) });
    expect(result.violations).toMatchObject([{ kind: 'domain_denied', fn: 'http_request' }]);
  };

  // An allowed_domains entry let the guest reach any port of the host (SSH, Redis, an admin port on the API host).
  it('refuses a non-default port of a host listed without a port', async () => {
    const result = await call(`${firstBase}/ok`, ['loopback.test']);
    expectDomainRefused(result, new RegExp(`loopback\\.test:${firstPort} is not in allowed_domains`));
    expect(received).toEqual([]);
  });

  it('an entry naming a port allows that port only', async () => {
    const allowed = [`loopback.test:${firstPort}`];
    expect((await call(`${firstBase}/ok`, allowed)).output).toMatchObject({ status: 200, body: { reached: '/ok' } });
    expectDomainRefused(await call(`http://loopback.test:${secondPort}/ok`, allowed), new RegExp(`port ${secondPort}`));
    expect(received.map((r) => `${r.server} ${r.url}`)).toEqual(['first /ok']);
  });

  it('refuses a redirect from the allowed port to another port of the same host', async () => {
    const result = await call(`${firstBase}/to-first-host-second-port`, [`loopback.test:${firstPort}`]);
    expectRefused(result, new RegExp(`port ${secondPort}`));
    expect(received.map((r) => `${r.server} ${r.url}`)).toEqual(['first /to-first-host-second-port']);
  });

  // Only authorization, cookie and proxy-authorization were dropped when a redirect changed origin: a vault secret in
  // a custom header (X-Weather-Key) or an X-API-Key followed an open redirect on one allowed API to another origin.
  it.each([
    ['another allowed host', '/to-second', (): string[] => [`loopback.test:${firstPort}`, `second.test:${secondPort}`]],
    ['another port of the same host', '/to-first-host-second-port', (): string[] => [`loopback.test:${firstPort}`, `loopback.test:${secondPort}`]],
  ])('drops credential headers on a redirect to %s', async (_name, path, allowed) => {
    const headers = { 'X-Weather-Key': '{{credential:weather}}', 'X-API-Key': 'guest-api-key', 'X-Auth-Token': 'guest-token', 'Ocp-Apim-Subscription-Key': 'sub', 'X-Trace': 't1' };
    const result = await call(`${firstBase}${path}`, allowed(), headers);
    expect(result.output).toMatchObject({ status: 200, body: { reached: '/landed' } });
    expect(received.map((r) => `${r.server} ${r.url}`)).toEqual([`first ${path}`, 'second /landed']);
    expect(received[0]?.headers).toMatchObject({ 'x-weather-key': VAULT_SECRET, 'x-api-key': 'guest-api-key', 'x-auth-token': 'guest-token' });
    const landed = received[1]?.headers ?? {};
    expect(landed['x-trace']).toBe('t1');
    expect(Object.keys(landed)).not.toEqual(expect.arrayContaining(['x-weather-key']));
    for (const name of ['x-weather-key', 'x-api-key', 'x-auth-token', 'ocp-apim-subscription-key']) expect(landed[name]).toBeUndefined();
    expect(JSON.stringify(landed)).not.toContain(VAULT_SECRET);
    // The audit still names the hop the request was redirected to.
    expect(result.host_call_audit).toEqual([expect.objectContaining({ fn: 'http_request', allowed: true, args_summary: expect.stringMatching(/ -> http:\/\/.+:\d+\/landed$/) })]);
  });

  // Checked properties (these held): the origin comparison ignores host case, a credential dropped on the way out
  // does not come back on a later hop to the first origin, and a header name in any case is dropped.
  it('keeps credential headers on a redirect to the same origin spelled in upper case', async () => {
    const result = await call(`${firstBase}/to-self-upper-case`, [`loopback.test:${firstPort}`], { 'X-Weather-Key': '{{credential:weather}}' });
    expect(result.output).toMatchObject({ status: 200, body: { reached: '/landed' } });
    expect(received[1]?.headers['x-weather-key']).toBe(VAULT_SECRET);
  });

  it('does not restore a dropped credential when a later hop returns to the first origin', async () => {
    const allowed = [`loopback.test:${firstPort}`, `second.test:${secondPort}`];
    const result = await call(`${firstBase}/to-second-and-back`, allowed, { 'x-WEATHER-key': '{{credential:weather}}', AUTHORIZATION: 'Bearer guest' });
    expect(result.output).toMatchObject({ status: 200, body: { reached: '/landed' } });
    expect(received.map((r) => `${r.server} ${r.url}`)).toEqual(['first /to-second-and-back', 'second /back-to-first', 'first /landed']);
    expect(received[0]?.headers).toMatchObject({ 'x-weather-key': VAULT_SECRET, authorization: 'Bearer guest' });
    for (const hop of received.slice(1)) {
      expect(hop.headers['x-weather-key']).toBeUndefined();
      expect(hop.headers.authorization).toBeUndefined();
    }
  });

  it('keeps credential headers on a same-origin redirect', async () => {
    const result = await call(`${firstBase}/to-self`, [`loopback.test:${firstPort}`], { 'X-Weather-Key': '{{credential:weather}}', 'X-API-Key': 'guest-api-key' });
    expect(result.output).toMatchObject({ status: 200, body: { reached: '/landed' } });
    expect(received.map((r) => `${r.server} ${r.url}`)).toEqual(['first /to-self', 'first /landed']);
    expect(received[1]?.headers).toMatchObject({ 'x-weather-key': VAULT_SECRET, 'x-api-key': 'guest-api-key' });
  });
});
