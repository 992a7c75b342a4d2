import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../src/index.js';
import type { HostCallAuditEntry, HostHandlers, SandboxSupervisor } from '../src/index.js';
import { runCode, testSupervisor } from './fixtures/harness.js';

let sandbox: SandboxSupervisor;
beforeAll(async () => { sandbox = testSupervisor(); await sandbox.start(); });
afterAll(async () => { await sandbox.close(); });

const calls: string[] = [];
const handlers: HostHandlers = {
  http_request: async (request) => { calls.push(request.url); return { status: 200, headers: {}, body: 'ok' }; },
  read_context: async (key) => { calls.push(key); return 'value'; },
};
const TRY = (expression: string): string => `try { await ${expression}; return 'allowed' } catch (e) { return [e.code, e.message] }`;

describe('deny by default', () => {
  it('denies http_request without network:outbound and records a violation', async () => {
    calls.length = 0;
    const result = await runCode(sandbox, TRY('tollgate.http_request("https://api.example.com/")'), { permissions: [...PERMISSIONS.READONLY], allow_network: true }, { handlers });
    expect(result.output).toEqual(['PERMISSION_DENIED', 'http_request needs the network:outbound permission']);
    expect(calls).toEqual([]);
    expect(result.host_call_audit).toMatchObject([{ fn: 'http_request', allowed: false, reason: 'scope_missing:network:outbound' }]);
    expect(result.violations).toMatchObject([{ kind: 'permission_denied', fn: 'http_request' }]);
    expect(result.violation_count).toBe(1);
  });

  it('denies http_request when allow_network is false even with the scope', async () => {
    const result = await runCode(sandbox, TRY('tollgate.http_request("https://api.example.com/")'), { permissions: [...PERMISSIONS.CODER], allow_network: false }, { handlers });
    expect(result.output).toEqual(['PERMISSION_DENIED', 'http_request needs allow_network']);
    expect(result.violations[0]).toMatchObject({ kind: 'network_denied', reason: 'network_disabled' });
  });

  it('denies read_context without data:read', async () => {
    const result = await runCode(sandbox, TRY('tollgate.read_context("k")'), { permissions: ['inference:call'] }, { handlers });
    expect(result.output).toEqual(['PERMISSION_DENIED', 'read_context needs the data:read permission']);
  });

  it('lets log and write_result through for every preset, including an empty grant', async () => {
    const result = await runCode(sandbox, 'await tollgate.log("hi"); await tollgate.write_result(1);', { permissions: [] });
    expect(result).toMatchObject({ status: 'completed', output: 1, violation_count: 0 });
  });

  it('refuses plain http and domains outside allowed_domains before the handler runs', async () => {
    calls.length = 0;
    const code = `const out = [];
for (const url of ['http://api.example.com/', 'https://evil.example.net/', 'https://api.example.com/ok']) {
  try { await tollgate.http_request(url); out.push('allowed') } catch (e) { out.push(e.message) }
}
return out;`;
    const result = await runCode(sandbox, code, { permissions: [...PERMISSIONS.CODER], allow_network: true, allowed_domains: ['api.example.com'] }, { handlers });
    expect(result.output).toEqual(['http_request allows HTTPS URLs only', 'evil.example.net is not in allowed_domains', 'allowed']);
    expect(calls).toEqual(['https://api.example.com/ok']);
    expect(result.violations.map((v) => v.kind)).toEqual(['network_denied', 'domain_denied']);
  });
});

describe('quota and audit', () => {
  it('counts http_request and read_context against max_api_calls_per_run and denies past it', async () => {
    const code = `const out = [];
for (let i = 0; i < 4; i++) { try { await tollgate.read_context('k' + i); out.push('ok') } catch (e) { out.push(e.message) } }
return out;`;
    const result = await runCode(sandbox, code, { max_api_calls_per_run: 2 }, { handlers });
    expect(result.output).toEqual(['ok', 'ok', 'max_api_calls_per_run (2) exceeded', 'max_api_calls_per_run (2) exceeded']);
    expect(result.resource_usage.api_calls).toBe(4);
    expect(result.violations.filter((v) => v.kind === 'quota_exceeded')).toHaveLength(2);
  });

  it('summarises arguments without query strings and streams audit entries as they happen', async () => {
    const streamed: HostCallAuditEntry[] = [];
    const result = await runCode(sandbox, 'await tollgate.http_request("https://api.example.com/v1/items?token=SECRET", "post", {}, { a: 1 })',
      { permissions: [...PERMISSIONS.CODER], allow_network: true }, { handlers, onHostCall: (entry) => streamed.push(entry) });
    expect(result.host_call_audit[0]).toMatchObject({ fn: 'http_request', args_summary: 'POST https://api.example.com/v1/items', allowed: true });
    expect(JSON.stringify(result.host_call_audit)).not.toContain('SECRET');
    expect(streamed).toEqual(result.host_call_audit);
  });

  it('reports a missing handler as a plain guest error', async () => {
    const result = await runCode(sandbox, TRY('tollgate.http_request("https://api.example.com/")'), { permissions: [...PERMISSIONS.CODER], allow_network: true });
    expect(result.output).toEqual(['NOT_AVAILABLE', 'http_request is not available on this server']);
  });

  it('rejects invalid arguments without calling the handler', async () => {
    calls.length = 0;
    const code = `const out = [];
for (const call of [() => tollgate.http_request(42), () => tollgate.http_request('https://a.example/', 'TRACE'), () => tollgate.http_request('https://a.example/', 'GET', { a: 1 }), () => tollgate.read_context('')]) {
  try { await call(); out.push('ok') } catch (e) { out.push(e.code) }
}
return out;`;
    const result = await runCode(sandbox, code, { permissions: [...PERMISSIONS.CODER], allow_network: true }, { handlers });
    expect(result.output).toEqual(['INVALID_ARGUMENTS', 'INVALID_ARGUMENTS', 'INVALID_ARGUMENTS', 'INVALID_ARGUMENTS']);
    expect(calls).toEqual([]);
    expect(result.host_call_audit.every((a) => a.reason === 'invalid_arguments')).toBe(true);
  });

  it('aborts the handler signal when the run ends', async () => {
    let signal: AbortSignal | undefined;
    const result = await runCode(sandbox, 'tollgate.read_context("slow"); return "done early"', {}, {
      handlers: { read_context: (_key, context) => { signal = context.signal; return new Promise(() => {}); } },
    });
    expect(result.output).toBe('done early');
    expect(signal?.aborted).toBe(true);
  });
});
