import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedHttpRequest, PERMISSIONS, SandboxSupervisor } from '../src/index.js';
import type { HostHandlers, HostResolver } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// SSRF attempts made by guest code through tollgate.http_request, with the egress guard as the handler (as the
// server wires it). No outside network: a stub resolver and one loopback server. Plain HTTP and 127.0.0.1 are
// allowed explicitly for that test server only; everything else private stays refused.
const zone: Record<string, string[]> = {
  'loopback.test': ['127.0.0.1'],
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
