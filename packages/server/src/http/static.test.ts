import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { startTestServer, type TestServer } from '../../../../test-utils/index.js';

/** GET that keeps the raw (possibly gzipped) bytes. */
function getRaw(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(5000))});`;

describe('serving the built dashboard', () => {
  let dir: string;
  let t: TestServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-dashboard-dist-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), INDEX);
    await writeFile(join(dir, 'assets', 'app-abc123.js'), SCRIPT);
    t = await startTestServer({ config: { dashboardDir: dir } });
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers / and every client route with index.html under a strict CSP', async () => {
    for (const path of ['/', '/sessions', '/sessions/abc', '/kill-switch', '/agents/7/12', '/sign-in']) {
      const response = await fetch(`${t.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toBe(INDEX);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it('serves hashed assets gzipped and cacheable, and answers a matching ETag with 304', async () => {
    const response = await getRaw(`${t.url}/assets/app-abc123.js`, { 'accept-encoding': 'gzip' });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['content-type']).toContain('text/javascript');
    expect(response.headers['cache-control']).toContain('immutable');
    expect(gunzipSync(response.body).toString()).toBe(SCRIPT);
    const again = await fetch(`${t.url}/assets/app-abc123.js`, { headers: { 'if-none-match': String(response.headers.etag) } });
    expect(again.status).toBe(304);
  });

  it('never shadows the API: unknown API paths and files keep the JSON 404 envelope', async () => {
    for (const path of ['/api/v1/nope', '/v1/nope', '/assets/missing.js', '/sessionsx', '/docs-nope']) {
      const response = await t.request('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body.error.code, path).toBe('NOT_FOUND');
    }
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });
});

describe('when the dashboard is not built', () => {
  it('answers / with 503 and says how to build it; the API still works', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'tollgate-dashboard-missing-'));
    const t = await startTestServer({ config: { dashboardDir: empty } });
    try {
      const page = await fetch(`${t.url}/`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('npm run build');
      expect((await t.request('GET', '/api/v1/keys', { key: t.tenantA.adminKey })).status).toBe(200);
    } finally {
      await t.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
