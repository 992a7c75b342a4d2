import { describe, expect, it } from 'vitest';
import { resolveApiKey, resolveBaseUrl, toRestConfig } from './agent-config.js';
import { DEFAULT_API_URL } from './http-client.js';
import { PERMISSION_PRESETS } from './permission-presets.js';
import { SDKError } from './sdk-error.js';

describe('toRestConfig', () => {
  it('sends the seed Quick start options as AgentConfig fields', () => {
    const config = toRestConfig({ permissions: PERMISSION_PRESETS.CODER, limits: { maxMemoryMb: 512, maxExecutionTimeSec: 300 }, sandbox: 'STANDARD' });
    expect(config).toEqual({
      sandbox_template: 'STANDARD',
      permissions: ['compute:read', 'compute:write', 'inference:call', 'data:read', 'network:outbound'],
      memory_limit_mb: 512,
      cpu_time_limit_ms: 300_000,
    });
  });

  it('maps every limit to its AgentConfig field, the per-minute rate apart from the per-run quota', () => {
    expect(toRestConfig({ limits: { maxApiCallsPerRun: 7, maxApiCallsPerMinute: 120 } })).toMatchObject({
      max_api_calls_per_run: 7, max_api_calls_per_minute: 120,
    });
    expect(toRestConfig({ limits: { maxApiCallsPerMinute: 5 } })).not.toHaveProperty('max_api_calls_per_run');
    expect(toRestConfig({ limits: { maxApiCallsPerRun: 5 } })).not.toHaveProperty('max_api_calls_per_minute');
  });

  it('defaults to STANDARD with READONLY scopes (deny by default)', () => {
    expect(toRestConfig({})).toEqual({ sandbox_template: 'STANDARD', permissions: [...PERMISSION_PRESETS.READONLY] });
  });

  it.each([
    [{ sandbox: 'LOOSE' as never }],
    [{ limits: { maxMemoryMb: -1 } }],
    [{ limits: { maxExecutionTimeSec: Number.NaN } }],
    [{ limits: { maxApiCallsPerRun: 0 } }],
    [{ limits: { maxApiCallsPerMinute: 0 } }],
    [{ limits: { maxApiCallsPerMinute: -60 } }],
    [{ limits: { maxApiCallsPerMinute: Number.POSITIVE_INFINITY } }],
    [{ limits: { maxApiCallsPerMinute: '60' as never } }],
  ])('rejects bad options %j with INVALID_OPTIONS', (options) => {
    expect(() => toRestConfig(options)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }) as unknown as Error);
  });

  it('lets extra AgentConfig fields through and keeps compliance codes', () => {
    expect(toRestConfig({ config: { allowed_domains: ['api.example.com'] }, compliance: ['soc2'] })).toMatchObject({
      allowed_domains: ['api.example.com'], compliance: ['soc2'],
    });
  });
});

describe('resolveBaseUrl / resolveApiKey', () => {
  it('prefers baseUrl, then apiUrl, then TOLLGATE_API_URL, then the default', () => {
    const saved = process.env.TOLLGATE_API_URL;
    try {
      delete process.env.TOLLGATE_API_URL;
      expect(resolveBaseUrl({})).toBe(DEFAULT_API_URL);
      process.env.TOLLGATE_API_URL = 'http://env:1';
      expect(resolveBaseUrl({})).toBe('http://env:1');
      expect(resolveBaseUrl({ apiUrl: 'http://api:2' })).toBe('http://api:2');
      expect(resolveBaseUrl({ baseUrl: 'http://base:3', apiUrl: 'http://api:2' })).toBe('http://base:3');
    } finally {
      if (saved === undefined) delete process.env.TOLLGATE_API_URL;
      else process.env.TOLLGATE_API_URL = saved;
    }
  });

  // A key with a line break (or a URL with a password) made fetch throw an error quoting the Authorization header (or
  // the URL), and that message became the NETWORK_ERROR the caller logs.
  it('refuses a key fetch cannot send and a URL with credentials, without echoing either; trims a trailing newline', () => {
    const secret = 'tg_live_abc_SECRETSECRET';
    for (const apiKey of [`${secret}\r\nX-Injected: 1`, `${secret}é`, `tg live ${secret}`]) {
      let message = '';
      try { resolveApiKey({ apiKey }); } catch (error) { message = (error as SDKError).message; expect((error as SDKError).code).toBe('INVALID_OPTIONS'); }
      expect(message).not.toBe('');
      expect(message).not.toContain('SECRET');
    }
    expect(resolveApiKey({ apiKey: `${secret}\n` })).toBe(secret);
    for (const baseUrl of ['http://user:SECRETPASS@127.0.0.1:8787', 'ftp://127.0.0.1/', 'not a url']) {
      let message = '';
      try { resolveBaseUrl({ baseUrl }); } catch (error) { message = (error as SDKError).message; }
      expect(message).not.toBe('');
      expect(message).not.toContain('SECRETPASS');
    }
  });

  it('fails with INVALID_OPTIONS when there is no key anywhere', () => {
    const saved = process.env.TOLLGATE_API_KEY;
    try {
      delete process.env.TOLLGATE_API_KEY;
      expect(() => resolveApiKey({})).toThrow(SDKError);
      expect(resolveApiKey({ apiKey: 'tzk_x' })).toBe('tzk_x');
    } finally {
      if (saved !== undefined) process.env.TOLLGATE_API_KEY = saved;
    }
  });
});
