import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_PAYLOAD_CHARS, redactPayload } from './redaction.js';

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
