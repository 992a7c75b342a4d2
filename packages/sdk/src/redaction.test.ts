import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_PAYLOAD_CHARS, redactPayload, safeStringify } from './redaction.js';

describe('redactPayload', () => {
  it('keeps a JSON copy under full, a SHA-256 under hashed, nothing under none', () => {
    const value = { path: '/etc/passwd', n: 1 };
    expect(redactPayload(value, 'full')).toEqual(value);
    expect(redactPayload(value, 'hashed')).toEqual({ sha256: createHash('sha256').update(JSON.stringify(value)).digest('hex') });
    expect(redactPayload(value, 'none')).toBeUndefined();
  });

  it('survives cycles, bigints and functions in tool inputs', () => {
    const value: Record<string, unknown> = { big: 10n, fn: () => 1 };
    value.self = value;
    expect(redactPayload(value, 'full')).toEqual({ big: '10', self: '[Circular]' });
  });

  it('truncates huge payloads instead of sending them whole', () => {
    const payload = redactPayload('x'.repeat(MAX_EVENT_PAYLOAD_CHARS * 2), 'full') as { truncated: boolean; preview: string };
    expect(payload.truncated).toBe(true);
    expect(payload.preview.length).toBe(MAX_EVENT_PAYLOAD_CHARS);
  });
});

describe('safeStringify', () => {
  // Regression: every repeated object (not only cycles) became "[Circular]", so a policy read
  // { source: cfg, target: cfg } as a target of "[Circular]" and never saw target.host.
  it.each([
    ['a shared object, written out each time', () => { const shared = { host: 'prod' }; return { a: shared, b: [shared, shared] }; }, '{"a":{"host":"prod"},"b":[{"host":"prod"},{"host":"prod"}]}'],
    ['a cycle', () => { const list: unknown[] = [1]; list.push(list); return list; }, '[1,"[Circular]"]'],
    ['a Map with string keys', () => new Map([['path', '/etc/passwd']]), '{"path":"/etc/passwd"}'],
    ['a Map with object keys', () => new Map([[{ id: 1 }, 'x']]), '[[{"id":1},"x"]]'],
    ['a Set, a Date and a bigint', () => ({ tags: new Set(['a']), at: new Date(0), id: 2n ** 64n }), '{"tags":["a"],"at":"1970-01-01T00:00:00.000Z","id":"18446744073709551616"}'],
    ['undefined, functions and symbols', () => ({ a: undefined, f: () => 1, s: Symbol('x'), list: [undefined, () => 1] }), '{"list":[null,null]}'],
    ['an own __proto__ key', () => JSON.parse('{"__proto__":{"admin":true}}') as unknown, '{"__proto__":{"admin":true}}'],
  ])('%s', (_name, build, expected) => {
    expect(safeStringify(build())).toBe(expected);
  });
});
