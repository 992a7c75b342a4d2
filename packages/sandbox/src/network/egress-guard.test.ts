import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEgressTarget } from './egress-guard.js';
import type { HostResolver } from './egress-guard.js';
import { guardedHttpRequest } from './guarded-http.js';

// A stub resolver: tests never use real DNS or the outside network.
const zone: Record<string, string[]> = {
  'public.test': ['93.184.215.14'],
  'api.public.test': ['93.184.215.15'],
  'internal.test': ['10.0.0.5'],
  'mixed.test': ['93.184.215.14', '127.0.0.1'],
  'v6-private.test': ['2606:4700::1', 'fd00::5'],
  'mapped.test': ['::ffff:169.254.169.254'],
  'loopback.test': ['127.0.0.1'],
  'other-loopback.test': ['127.0.0.2'],
};
const lookups: string[] = [];
const resolver: HostResolver = async (host) => {
  lookups.push(host);
  const records = zone[host];
  if (!records) throw new Error('NXDOMAIN');
  return records.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('resolveEgressTarget', () => {
  it.each([
    ['http://public.test/', /HTTPS only/],
    ['https://127.0.0.1/', /loopback/],
    ['https://[::1]/', /loopback/],
    ['https://169.254.169.254/latest/meta-data/', /metadata/],
    ['https://[fd00:ec2::254]/', /metadata/],
    ['https://[::ffff:127.0.0.1]/', /ipv4-mapped/],
    ['https://metadata.google.internal/computeMetadata/v1/', /metadata endpoint/],
    ['https://internal.test/', /private address \(10\.0\.0\.5\)/],
    ['https://mixed.test/', /loopback address \(127\.0\.0\.1\)/],
    ['https://v6-private.test/', /unique-local/],
    ['https://mapped.test/', /ipv4-mapped/],
    ['https://nxdomain.test/', /could not be resolved/],
    ['https://user:pw@public.test/', /credentials/],
    ['https://0x7f000001/', /loopback/],
    ['https://2130706433/', /loopback/],
    ['ftp://public.test/', /HTTPS only/],
  ])('refuses %s', async (url, reason) => {
    await expect(resolveEgressTarget(url, {}, resolver)).rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(reason) });
  });

  it('accepts a public host and pins its first address', async () => {
    await expect(resolveEgressTarget('https://public.test/a', {}, resolver)).resolves.toMatchObject({ hostname: 'public.test', address: '93.184.215.14', family: 4 });
  });

  it('enforces allowed_domains, exact and wildcard', async () => {
    await expect(resolveEgressTarget('https://public.test/', { allowedDomains: ['api.example.com'] }, resolver)).rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED' });
    await expect(resolveEgressTarget('https://api.public.test/', { allowedDomains: ['*.public.test'] }, resolver)).resolves.toBeDefined();
    await expect(resolveEgressTarget('https://public.test/', { allowedDomains: ['*.public.test'] }, resolver)).rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED' });
  });

  // An allowed_domains entry let the guest reach every port of the host (SSH on :22, Redis on :6379 of an API host).
  it.each([
    ['https://public.test:22/', ['public.test'], /public\.test:22 is not in allowed_domains/],
    ['https://api.public.test:8443/', ['*.public.test'], /port 8443/],
    ['https://public.test/', ['public.test:8443'], /port 443/],
    ['http://public.test:443/', ['public.test'], /port 443/],
  ])('refuses %s with allowed_domains %j', async (url, allowedDomains, reason) => {
    await expect(resolveEgressTarget(url, { allowedDomains, allowHttp: true }, resolver))
      .rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(reason), details: { host: new URL(url).hostname } });
  });

  it.each([
    ['https://public.test/', ['public.test']],
    ['https://public.test:443/', ['public.test']],
    ['http://public.test/', ['public.test']],
    ['https://public.test:8443/', ['public.test:8443']],
    ['https://api.public.test:8443/', ['*.public.test:8443']],
    ['https://public.test:8443/', []],
  ])('accepts %s with allowed_domains %j', async (url, allowedDomains) => {
    await expect(resolveEgressTarget(url, { allowedDomains, allowHttp: true }, resolver)).resolves.toMatchObject({ hostname: new URL(url).hostname });
  });

  it('allows a private range only when explicitly listed', async () => {
    await expect(resolveEgressTarget('https://internal.test/', { allowedAddressRanges: ['10.0.0.0/24'] }, resolver)).resolves.toMatchObject({ address: '10.0.0.5' });
  });
});

describe('guardedHttpRequest against loopback test servers', () => {
  let base = '';
  let hits: Array<{ url: string; host: string | undefined; auth: string | undefined }> = [];
  const server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', host: req.headers.host, auth: req.headers.authorization });
    const redirects: Record<string, string> = {
      '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
      '/to-private-name': `http://other-loopback.test:${(server.address() as AddressInfo).port}/`,
      '/to-self': '/final',
      '/loop': '/loop',
    };
    const target = redirects[req.url ?? ''];
    if (target) { res.writeHead(302, { location: target }); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  // Loopback is refused by default; these tests opt in for 127.0.0.1 only, and allow plain HTTP for the test server.
  const policy = { allowHttp: true, allowedAddressRanges: ['127.0.0.1/32'], resolver };

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://loopback.test:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('connects to the checked address with the original Host header, resolving once per hop', async () => {
    hits = []; lookups.length = 0;
    const res = await guardedHttpRequest({ url: `${base}/hello`, method: 'GET', headers: {}, body: undefined }, policy);
    expect(res).toMatchObject({ status: 200, body: { path: '/hello' } });
    expect(hits[0]?.host).toBe(`loopback.test:${new URL(base).port}`);
    expect(lookups).toEqual(['loopback.test']);
  });

  it('follows a same-site redirect, re-checking the hop', async () => {
    hits = [];
    const res = await guardedHttpRequest({ url: `${base}/to-self`, method: 'GET', headers: {}, body: undefined }, policy);
    expect(res.body).toEqual({ path: '/final' });
  });

  it.each([
    ['a metadata address', '/to-metadata', /metadata/],
    ['a name resolving to a non-allowed loopback address', '/to-private-name', /loopback address \(127\.0\.0\.2\)/],
  ])('refuses a redirect to %s', async (_name, path, reason) => {
    await expect(guardedHttpRequest({ url: `${base}${path}`, method: 'GET', headers: {}, body: undefined }, policy))
      .rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(reason) });
  });

  it('stops redirect loops', async () => {
    await expect(guardedHttpRequest({ url: `${base}/loop`, method: 'GET', headers: {}, body: undefined }, policy))
      .rejects.toMatchObject({ code: 'SANDBOX_HTTP_FAILED', message: expect.stringMatching(/too many redirects/) });
  });

  it('refuses redirects entirely with maxRedirects 0', async () => {
    await expect(guardedHttpRequest({ url: `${base}/to-self`, method: 'GET', headers: {}, body: undefined }, { ...policy, maxRedirects: 0 }))
      .rejects.toMatchObject({ code: 'SANDBOX_HTTP_FAILED' });
  });

  it('caps the response body', async () => {
    await expect(guardedHttpRequest({ url: `${base}/x`, method: 'GET', headers: {}, body: undefined }, { ...policy, maxResponseBytes: 5 }))
      .rejects.toMatchObject({ code: 'SANDBOX_HTTP_FAILED', message: expect.stringMatching(/larger than 5 bytes/) });
  });
});
