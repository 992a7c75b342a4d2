// Generic bad-input test: walks EVERY route the app registers (routes added later by any area are covered
// automatically) and throws malformed JSON, wrong types, missing/extra fields, huge bodies, deep nesting, odd
// unicode and random bytes at each. Never a 5xx, never a crash, and every error is the envelope.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisteredRoute } from '@tollgate/server';
import { encodeSegment, fillPath, pathParams, rawRequest, sampleFromSchema, startTestServer, wrongTypeFor, type TestServer } from '../../../test-utils/index.js';

interface BadInput {
  name: string;
  body?: Buffer | string;
  contentType?: string;
  query?: string;
  param?: string;
  noKey?: boolean;
}

const JSON_TYPE = 'application/json';
const ODD_UNICODE = '\u202e\u200b\u0000\ufeffé\u0301🙂\ud83d\ude00𝕏\u2028\u2029' + '\ud800'; // lone surrogate at the end
const ODD_PARAMS = ['0', '-1', '99999999999999999999999', 'x'.repeat(600), '../../etc/passwd', "' OR 1=1 --", 'null', ODD_UNICODE, '%', '{}'];
const ODD_QUERY = `?limit=-1&limit=abc&cursor=%FF%FE&waitMs=99999999999&status=%00&x[$gt]=1&tenantId=${encodeSegment(ODD_UNICODE)}&&=&`;

function bodySchemaOf(route: RegisteredRoute): Record<string, any> | undefined {
  return (route.schema as { body?: Record<string, any> } | undefined)?.body;
}

function stringsReplaced(value: unknown, replacement: string): unknown {
  if (typeof value === 'string') return replacement;
  if (Array.isArray(value)) return value.map((item) => stringsReplaced(item, replacement));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringsReplaced(v, replacement)]));
  return value;
}

function badInputsFor(route: RegisteredRoute, bodyLimit: number, seed: number): BadInput[] {
  const schema = bodySchemaOf(route);
  const sample = (sampleFromSchema(schema) ?? {}) as Record<string, unknown>;
  const inputs: BadInput[] = [
    { name: 'no API key', noKey: true, body: '{}' },
    { name: 'malformed JSON', body: '{"a": 1,' },
    { name: 'truncated JSON', body: '{' },
    { name: 'trailing garbage', body: '{} garbage' },
    { name: 'empty JSON body', body: '' },
    { name: 'JSON null', body: 'null' },
    { name: 'JSON number', body: '42' },
    { name: 'JSON string', body: '"text"' },
    { name: 'JSON array', body: '[1,2,3]' },
    { name: 'missing fields', body: '{}' },
    { name: 'extra fields', body: JSON.stringify({ ...(typeof sample === 'object' ? sample : {}), unexpectedField: 1, another: { nested: true } }) },
    { name: 'prototype pollution', body: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}' },
    { name: 'huge body', body: JSON.stringify({ data: 'x'.repeat(bodyLimit + 1024) }) },
    { name: 'deep array nesting', body: '['.repeat(50_000) + ']'.repeat(50_000) },
    { name: 'deep object nesting', body: '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) },
    { name: 'odd unicode strings', body: JSON.stringify(stringsReplaced(sample, ODD_UNICODE)) },
    { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]) },
    { name: 'huge numbers', body: JSON.stringify(stringsReplaced(sample, 'x')).replace(/\d+/g, '1e999999') },
    { name: 'text/plain body', body: 'hello', contentType: 'text/plain' },
    { name: 'octet-stream body', body: Buffer.from([0, 1, 2, 255]), contentType: 'application/octet-stream' },
    { name: 'form body', body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
    { name: 'odd query string', query: ODD_QUERY },
  ];
  for (const [field, fieldSchema] of Object.entries((schema?.['properties'] ?? {}) as Record<string, any>).slice(0, 12)) {
    inputs.push({ name: `wrong type for ${field}`, body: JSON.stringify({ ...sample, [field]: wrongTypeFor(fieldSchema) }) });
  }
  fc.sample(fc.uint8Array({ minLength: 1, maxLength: 256 }), { numRuns: 3, seed }).forEach((bytes, i) =>
    inputs.push({ name: `random bytes #${i}`, body: Buffer.from(bytes) }),
  );
  fc.sample(fc.anything(), { numRuns: 3, seed }).forEach((value, i) => inputs.push({ name: `random JSON #${i}`, body: JSON.stringify(value) ?? 'null' }));
  if (pathParams(route.url).length > 0) for (const param of ODD_PARAMS) inputs.push({ name: `odd path param ${JSON.stringify(param.slice(0, 20))}`, param, body: JSON.stringify(sample) });
  return inputs;
}

describe('bad input at every route', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('covers the routes of every area', () => {
    const urls = t.server.routes.map((route) => route.url);
    expect(urls).toEqual(expect.arrayContaining(['/healthz', '/api/v1/keys', '/api/v1/keys/:id']));
  });

  it('never answers 5xx and always answers errors with the envelope', { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    let sent = 0;
    const probe = async (route: RegisteredRoute, input: BadInput) => {
      const path = fillPath(route.url, () => input.param ?? 'nonexistent-id') + (input.query ?? '');
      const headers: Record<string, string> = {};
      if (!input.noKey) headers['authorization'] = `Bearer ${t.tenantA.adminKey}`;
      const carriesBody = input.body !== undefined && route.method !== 'GET';
      if (carriesBody) headers['content-type'] = input.contentType ?? JSON_TYPE;
      const label = `${route.method} ${route.url} [${input.name}]`;
      sent += 1;
      try {
        const res = await rawRequest(`${t.url}${path}`, { method: route.method, headers, ...(carriesBody ? { body: input.body } : {}) });
        if (res.status >= 500) failures.push(`${label} → ${res.status} ${res.text.slice(0, 200)}`);
        else if (res.status >= 400 && !res.streamed) {
          const body = JSON.parse(res.text || 'null') as { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | null;
          const error = body?.error;
          if (typeof error?.code !== 'string' || typeof error.message !== 'string' || typeof error.requestId !== 'string') {
            failures.push(`${label} → ${res.status} without envelope: ${res.text.slice(0, 200)}`);
          }
        }
      } catch (error) {
        failures.push(`${label} → ${String(error)}`);
      }
    };
    // A few routes at a time (each route's inputs in order), so the walk stays well under a minute.
    const queue = [...t.server.routes.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [index, route] = next;
        for (const input of badInputsFor(route, t.config.bodyLimitBytes, index + 1)) await probe(route, input);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    expect(sent).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });
});
