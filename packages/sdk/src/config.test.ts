import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { TollgateSdkError } from './errors.js';

describe('resolveConfig', () => {
  it('applies the seed defaults', () => {
    const config = resolveConfig({ agentId: 'a' }, { TOLLGATE_API_URL: 'http://x/' });
    expect(config).toMatchObject({
      apiUrl: 'http://x',
      userId: 'system',
      enforcement: 'block',
      stepUpTimeoutMs: 15 * 60_000,
      stepUpPollIntervalMs: 5000,
      failOpen: false,
      redaction: 'full',
      approvedScope: [],
      logLevel: 'WARN',
    });
  });

  it.each([
    [{ TOLLGATE_API_URL: 'http://t', THOTH_API_URL: 'http://s' }, 'http://t'],
    [{ THOTH_API_URL: 'http://s' }, 'http://s'],
  ])('reads the API URL from TOLLGATE_* first, THOTH_* as alias (%o)', (env, expected) => {
    expect(resolveConfig({ agentId: 'a' }, env).apiUrl).toBe(expected);
  });

  it('reads the API key and log level with aliases and the LOG_LEVEL fallback', () => {
    expect(resolveConfig({ agentId: 'a' }, { THOTH_API_URL: 'http://s', THOTH_API_KEY: 'k1', LOG_LEVEL: 'debug' })).toMatchObject({ apiKey: 'k1', logLevel: 'DEBUG' });
    expect(resolveConfig({ agentId: 'a' }, { THOTH_API_URL: 'http://s', TOLLGATE_API_KEY: 'k2', THOTH_API_KEY: 'k1', TOLLGATE_LOG_LEVEL: 'error', LOG_LEVEL: 'debug' })).toMatchObject({ apiKey: 'k2', logLevel: 'ERROR' });
  });

  it('fails open by default only in observe mode, and failOpen flips it', () => {
    const env = { TOLLGATE_API_URL: 'http://x' };
    expect(resolveConfig({ agentId: 'a', enforcement: 'observe' }, env).failOpen).toBe(true);
    expect(resolveConfig({ agentId: 'a', enforcement: 'step_up' }, env).failOpen).toBe(false);
    expect(resolveConfig({ agentId: 'a', enforcement: 'progressive', failOpen: true }, env).failOpen).toBe(true);
    expect(resolveConfig({ agentId: 'a', enforcement: 'observe', failOpen: false }, env).failOpen).toBe(false);
  });

  it.each([
    [{ agentId: '' }, /agentId/],
    [{ agentId: 'a', apiUrl: undefined }, /apiUrl is required/],
    [{ agentId: 'a', apiUrl: 'http://x', enforcement: 'strict' as never }, /enforcement/],
    [{ agentId: 'a', apiUrl: 'http://x', stepUpPollIntervalMs: 0 }, /stepUpPollIntervalMs/],
    [{ agentId: 'a', apiUrl: 'http://x', redaction: 'partial' as never }, /redaction/],
    [{ agentId: 'a', apiUrl: 'localhost:8080' }, /apiUrl must use http or https/],
    [{ agentId: 'a', apiUrl: 'not a url' }, /apiUrl must be an absolute/],
    [{ agentId: 'a', apiUrl: 'https://me:pw@x' }, /must not contain a user name or password/],
    [{ agentId: 'a', apiUrl: 'http://x', apiKey: 'tg_\u00e9' }, /apiKey may only hold printable ASCII/],
  ])('refuses bad options with CONFIG_INVALID (%o)', (options, message) => {
    const attempt = () => resolveConfig(options, {});
    expect(attempt).toThrow(TollgateSdkError);
    expect(attempt).toThrow(message);
  });
});
