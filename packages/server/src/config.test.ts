import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, loadConfig, parseConfigValue } from './config.js';

describe('loadConfig', () => {
  it('uses documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: DEFAULT_PORT, host: '127.0.0.1', dataDir: './data', databaseUrl: undefined, adminKey: undefined, logLevel: 'info' });
  });

  it('parses every variable and lets overrides win', () => {
    const config = loadConfig(
      { TOLLGATE_PORT: '9000', DATABASE_URL: 'postgres://u@h:5432/db', TOLLGATE_LOG_LEVEL: 'DEBUG', TOLLGATE_BODY_LIMIT_BYTES: '2048' },
      { port: 0 },
    );
    expect(config).toMatchObject({ port: 0, databaseUrl: 'postgres://u@h:5432/db', logLevel: 'debug', bodyLimitBytes: 2048 });
  });

  it('the sandbox per-tenant cap defaults to 0 (half the workers, decided by the sandbox) and parses a count', () => {
    expect(loadConfig({}).sandboxMaxRunningPerTenant).toBe(0);
    expect(loadConfig({ TOLLGATE_SANDBOX_MAX_RUNNING_PER_TENANT: '3' }).sandboxMaxRunningPerTenant).toBe(3);
  });

  it.each([
    ['TOLLGATE_PORT', '80a'],
    ['TOLLGATE_PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['TOLLGATE_LOG_LEVEL', 'loud'],
    ['TOLLGATE_ADMIN_KEY', 'password123'],
    ['TOLLGATE_BODY_LIMIT_BYTES', '10'],
    ['TOLLGATE_AUTH_CACHE_TTL_MS', '-5'],
    ['TOLLGATE_SANDBOX_MAX_RUNNING_PER_TENANT', '-1'],
  ])('a bad %s (%s) fails with CONFIG_INVALID naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(name) }));
  });

  it('CLI flags are parsed by the same rules and named in the error', () => {
    expect(parseConfigValue('port', '8080', '--port')).toBe(8080);
    expect(() => parseConfigValue('port', 'x', '--port')).toThrow(/--port/);
  });
});
