import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_PAYLOAD_CHARS, cutPreview, redactPayload, safeStringify } from './redaction.js';

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

  it('truncates huge payloads instead of sending them whole, at a word boundary', () => {
    const payload = redactPayload('word '.repeat(MAX_EVENT_PAYLOAD_CHARS), 'full') as { truncated: boolean; preview: string };
    expect(payload.truncated).toBe(true);
    expect(payload.preview.length).toBeLessThanOrEqual(MAX_EVENT_PAYLOAD_CHARS);
    expect(payload.preview.length).toBeGreaterThan(MAX_EVENT_PAYLOAD_CHARS - 'word '.length);
    expect(payload.preview.endsWith('word')).toBe(true);
  });

  // Regression: the preview was cut at exactly 32,768 UTF-16 units; an emoji across the cut left a lone high
  // surrogate, which the server refuses (400), so the event carrying the tool's arguments was lost.
  it('never leaves half of a surrogate pair at the cut', () => {
    // JSON text is '"' + text + '"': the emoji sits at JSON offsets 32767/32768, across the cut.
    const text = 'a '.repeat((MAX_EVENT_PAYLOAD_CHARS - 2) / 2) + '😀' + 'b'.repeat(10);
    const { preview } = redactPayload(text, 'full') as { preview: string };
    expect(preview).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(preview.endsWith('a')).toBe(true);
  });

  // Regression: a PEM private key across the cut lost its END line, so the server's secret rule no longer matched
  // and the key body was stored in clear.
  it('cuts before a private key whose END line would fall past the cut', () => {
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${Array.from({ length: 25 }, (_, line) => `MIIE${String(line).padStart(2, '0')}${'Q'.repeat(58)}`).join('\n')}\n-----END RSA PRIVATE KEY-----\n`;
    const file = `config dump ${'x'.repeat(MAX_EVENT_PAYLOAD_CHARS - 1000)}\n${pem}${'y'.repeat(20_000)}`;
    const { preview } = redactPayload({ path: '/srv/app/config.txt', content: file }, 'full') as { preview: string };
    expect(preview).not.toContain('BEGIN RSA PRIVATE KEY');
    expect(preview).not.toContain('MIIE00');
    expect(preview).not.toContain('MIIE24');
    expect(preview).toContain('config dump');
  });

  it('keeps a private key whose END line fits before the cut, for the server to redact whole', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY-----';
    const { preview } = redactPayload(`${pem}\n${'z '.repeat(MAX_EVENT_PAYLOAD_CHARS)}`, 'full') as { preview: string };
    expect(preview).toContain('-----END PRIVATE KEY-----');
  });

  it.each([
    ['a token cut in half is left out whole', '"id sk-live-0123456789abcdef"', 20, '"id'],
    ['the next character is a boundary: nothing is left out', '"one two three"', 8, '"one two'],
    ['an escaped line break is a boundary', JSON.stringify('line one\nline two'), 13, '"line one'],
    ['no boundary at all: nothing is kept', JSON.stringify('x'.repeat(40)), 20, ''],
  ])('%s', (_name, json, max, expected) => {
    expect(cutPreview(json, max)).toBe(expected);
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
