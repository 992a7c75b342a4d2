import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_API_CALLS_PER_MINUTE, resolveSandboxConfig } from '../src/index.js';
import type { HostHandlers, SandboxSupervisor } from '../src/index.js';
import { runCode, testSupervisor } from './fixtures/harness.js';

let sandbox: SandboxSupervisor;
beforeAll(async () => { sandbox = testSupervisor(); await sandbox.start(); });
afterAll(async () => { await sandbox.close(); });

let served = 0;
const handlers: HostHandlers = {
  read_context: async () => { served += 1; return 'value'; },
  http_request: async () => { served += 1; return { status: 200, headers: {}, body: 'ok' }; },
};

/** Guest code making `n` read_context calls in a row, collecting 'ok' or `[code, message]` for each. */
const CALLS = (n: number, call = "tollgate.read_context('k')"): string => `const out = [];
for (let i = 0; i < ${n}; i++) { try { await ${call}; out.push('ok') } catch (e) { out.push([e.code, e.message]) } }
return out;`;

describe('max_api_calls_per_minute (the seed: "API calls / minute (per execution)")', () => {
  it('defaults to the seed value of 60 in every template and without one', () => {
    expect(DEFAULT_API_CALLS_PER_MINUTE).toBe(60);
    for (const template of [undefined, 'STRICT', 'STANDARD', 'DEV'] as const) {
      expect(resolveSandboxConfig(template ? { sandbox_template: template } : {}).max_api_calls_per_minute).toBe(60);
    }
    expect(resolveSandboxConfig({ sandbox_template: 'STRICT', max_api_calls_per_minute: 5 }).max_api_calls_per_minute).toBe(5);
    expect(() => resolveSandboxConfig({ max_api_calls_per_minute: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'max_api_calls_per_minute' } }));
  });

  it('denies the 61st call within a minute with RATE_LIMITED and a retry time, and records a rate_limit_hit violation', async () => {
    served = 0;
    const result = await runCode(sandbox, CALLS(62), { max_api_calls_per_run: 1000 }, { handlers });
    const out = result.output as unknown[];
    expect(out.slice(0, 60).every((item) => item === 'ok')).toBe(true);
    expect(served).toBe(60);
    const [code, message] = out[60] as [string, string];
    expect(code).toBe('RATE_LIMITED');
    const retryAfterMs = Number(/retry after (\d+) ms/.exec(message)?.[1]);
    expect(retryAfterMs).toBeGreaterThan(50_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(result.violations.filter((v) => v.kind === 'rate_limit_hit')).toHaveLength(2);
    expect(result.host_call_audit.at(-1)).toMatchObject({ fn: 'read_context', allowed: false, reason: 'rate_limited' });
    expect(result.status).toBe('completed');
  });

  it('honours an agent override and counts http_request and read_context together', async () => {
    served = 0;
    const code = `const out = [];
for (const call of [() => tollgate.read_context('a'), () => tollgate.http_request('https://api.example.com/'), () => tollgate.read_context('b')]) {
  try { await call(); out.push('ok') } catch (e) { out.push(e.code) }
}
return out;`;
    const result = await runCode(sandbox, code, { max_api_calls_per_minute: 2, allow_network: true, permissions: ['data:read', 'network:outbound'] }, { handlers });
    expect(result.output).toEqual(['ok', 'ok', 'RATE_LIMITED']);
    expect(served).toBe(2);
  });

  it('leaves log and write_result alone (they are not API calls)', async () => {
    const code = `for (let i = 0; i < 100; i++) tollgate.log('line ' + i); await tollgate.write_result({ done: true });`;
    const result = await runCode(sandbox, code, { max_api_calls_per_minute: 1 }, { handlers });
    expect(result.output).toEqual({ done: true });
    expect(result.violations).toEqual([]);
  });
});
