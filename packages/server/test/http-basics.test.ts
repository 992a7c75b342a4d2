import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

function expectEnvelope(body: any, code: string) {
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.requestId).toBe('string');
}

describe('HTTP basics', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers health and readiness without a key', async () => {
    expect((await t.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await t.request('GET', '/readyz')).body).toEqual({ status: 'ready' });
  });

  it('refuses a missing, malformed or unknown key with 401 and the envelope', async () => {
    for (const key of [undefined, 'nope', `tg_live_0000000000000000_${'a'.repeat(64)}`]) {
      const res = await t.request('GET', '/api/v1/keys', key ? { key } : {});
      expect(res.status).toBe(401);
      expectEnvelope(res.body, 'UNAUTHENTICATED');
    }
  });

  it('accepts the key in Authorization: Bearer and in X-API-Key', async () => {
    expect((await t.request('GET', '/api/v1/keys', { key: t.tenantA.adminKey })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/keys', { headers: { 'x-api-key': t.tenantA.adminKey } })).status).toBe(200);
  });

  it('refuses a key without the needed scope with 403', async () => {
    const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] });
    const res = await t.request('GET', '/api/v1/keys', { key: token });
    expect(res.status).toBe(403);
    expectEnvelope(res.body, 'FORBIDDEN');
  });

  it('answers unknown routes with a 404 envelope and echoes the request id', async () => {
    const res = await t.request('GET', '/nope', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.status).toBe(404);
    expectEnvelope(res.body, 'NOT_FOUND');
    expect(res.body.error.requestId).toBe('abc-123');
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });

  it('answers a known path asked with another method with 405 and the methods it allows', async () => {
    const get = await t.request('GET', '/v1/enforce', { key: t.tenantA.adminKey });
    expect(get.status).toBe(405);
    expectEnvelope(get.body, 'METHOD_NOT_ALLOWED');
    expect(get.headers.get('allow')).toBe('POST');
    const deletePolicy = await t.request('DELETE', '/api/v1/policies/some-id/simulate', { key: t.tenantA.adminKey });
    expect(deletePolicy.status).toBe(405);
    expect(deletePolicy.body.error.message).toContain('allowed: POST');
    expect((await t.request('POST', '/api/v1/nope', { key: t.tenantA.adminKey })).status).toBe(404);
  });

  it('maps bad JSON to 400 INVALID_JSON, wrong types to 400 naming the field, big bodies to 413, odd media to 415', async () => {
    const post = (body: string, contentType = 'application/json') =>
      fetch(`${t.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${t.tenantA.adminKey}`, 'content-type': contentType }, body });
    let res = await post('{"scopes": [');
    expect(res.status).toBe(400);
    expectEnvelope(await res.json(), 'INVALID_JSON');
    res = await post(JSON.stringify({ scopes: 'admin' }));
    const body = await res.json();
    expect(res.status).toBe(400);
    expectEnvelope(body, 'VALIDATION_FAILED');
    expect(body.error.message).toContain('scopes');
    res = await post(JSON.stringify({ scopes: ['admin'], surprise: 1 }));
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain('surprise');
    res = await post(JSON.stringify({ scopes: ['admin'], name: 'x'.repeat(2_000_000) }));
    expect(res.status).toBe(413);
    expectEnvelope(await res.json(), 'PAYLOAD_TOO_LARGE');
    res = await post('<xml/>', 'application/xml');
    expect(res.status).toBe(415);
    expectEnvelope(await res.json(), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('serves the OpenAPI document, swagger-ui, metrics and the placeholder page', async () => {
    const doc = await t.request('GET', '/openapi.json');
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toContain('/api/v1/keys');
    expect((await fetch(`${t.url}/docs`)).status).toBe(200);
    // swagger-ui shares the dashboard's origin and CSRF cookie: strict CSP of its own assets, never framed.
    const ui = await fetch(`${t.url}/docs/static/index.html`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(ui.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(ui.headers.get('content-security-policy')).not.toMatch(/unsafe-eval/);
    expect(ui.headers.get('x-frame-options')).toBe('DENY');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain('tollgate_http_requests_total');
    await fetch(`${t.url}/healthz`);
    const after = await (await fetch(`${t.url}/metrics`)).text();
    const count = (text: string) => Number(/^tollgate_http_requests_total\{method="GET",route="\/healthz",status="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    expect(count(after)).toBe(count(metrics) + 1);
    expect(after).toMatch(/^tollgate_http_request_duration_seconds_bucket\{method="GET",route="\/healthz",le="\+Inf"\} \d+$/m);
    expect(after).toMatch(/^tollgate_http_request_duration_seconds_count\{method="GET",route="\/healthz"\} \d+$/m);
    expect(after).toContain('# TYPE tollgate_http_request_duration_seconds histogram');
    // Refused by authentication: still counted under its route; no route at all: "unmatched".
    expect((await fetch(`${t.url}/api/v1/auth/whoami`)).status).toBe(401);
    expect((await fetch(`${t.url}/no/such/route`)).status).toBe(404);
    const refused = await (await fetch(`${t.url}/metrics`)).text();
    expect(refused).toMatch(/^tollgate_http_requests_total\{method="GET",route="\/api\/v1\/auth\/whoami",status="401"\} 1$/m);
    expect(refused).toMatch(/^tollgate_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m);
    expect(await (await fetch(`${t.url}/`)).text()).toContain('Tollgate');
  });
});
