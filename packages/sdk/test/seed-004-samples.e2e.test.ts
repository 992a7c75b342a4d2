import { execFile } from 'node:child_process';
import dnsPromises from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https, { createServer, type Server } from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VisibleIdTable } from '../../server/src/store/repositories/visible-ids.js';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { KEY_PRELUDE, PAGE_FETCH_PRELUDE, SDK_PRELUDE, EVENT_SOURCE_PRELUDE } from './fixtures/seed-004-preludes.js';
import {
  QUICK_START, HOST_API_ENTRY_CODE, HELLO_ENTRY_CODE, CURL_REGISTER_BODY, LIMITS_OVERRIDE, PRESETS, AUDIT, KILL_SWITCH, PERMISSION_REQUEST, STREAM_NODE, STREAM_BROWSER,
} from './fixtures/seed-004-samples.js';

// Every code sample of seed 004 (Secure Agent SDK), copied verbatim into fixtures/seed-004-samples.ts; only
// `@thetazero/agent-sdk` became `@tollgate/sdk`. What a sample leaves to the reader (its key, `churnDataset`,
// `agentId`, a page origin for relative URLs, an `agent` made earlier) comes from a prelude around it
// (fixtures/seed-004-preludes.ts), never from editing it. The status of each sample is listed in
// docs/sandbox-api.md ("Seed 004 samples").

// Execution ids are drawn at random (store/repositories/visible-ids.ts); the live-stream samples watch a literal id.
const nextExecutionIds = vi.hoisted(() => [] as number[]);
vi.mock('../../server/src/store/repositories/visible-ids.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../server/src/store/repositories/visible-ids.js')>();
  return {
    ...actual,
    insertWithVisibleId: <T>(table: VisibleIdTable, insert: (id: number) => Promise<T | undefined>): Promise<T> => {
      const id = table === 'sandbox_executions' ? nextExecutionIds.shift() : undefined;
      if (id === undefined) return actual.insertWithVisibleId(table, insert);
      return insert(id).then((row) => row ?? Promise.reject(new Error(`execution id ${id} is taken`)));
    },
  };
});

const here = dirname(fileURLToPath(import.meta.url));
const TLS = join(here, 'fixtures', 'tls-api-example');

const RESULT_MARK = '@@result@@';

describe('seed 004 code samples run against Tollgate as written', () => {
  let t: TestServer;
  let key: string;
  let approverKey: string;
  let upstream: Server;
  const upstreamRequests: Array<{ path: string | undefined; authorization: string | undefined }> = [];
  const originalLookup = dnsPromises.lookup;
  const originalRequest = https.request;
  let dir: string;

  beforeAll(async () => {
    // The seed's http_request example calls https://api.example.com/data. The test plays that API and the network
    // in front of it: a local HTTPS server with a certificate for api.example.com, name resolution answering
    // 127.0.0.1 for that one name, and its port 443 routed to the server's port. Every Tollgate check still runs.
    upstream = createServer({ cert: readFileSync(join(TLS, 'cert.pem')), key: readFileSync(join(TLS, 'key.pem')) }, (request, response) => {
      upstreamRequests.push({ path: request.url, authorization: request.headers.authorization });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ items: [{ id: 1 }, { id: 2 }, { id: 3 }] }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    https.request = ((url: unknown, ...rest: unknown[]) => (
      url instanceof URL && url.hostname === 'api.example.com' && url.port === ''
        ? originalRequest(Object.assign(new URL(url), { port: String(port) }), ...(rest as [never]))
        : originalRequest(url as never, ...(rest as [never]))
    )) as typeof https.request;
    (dnsPromises as { lookup: unknown }).lookup = (async (hostname: string, options: unknown) => (
      hostname === 'api.example.com' ? [{ address: '127.0.0.1', family: 4 }] : originalLookup(hostname, options as never)
    ));
    syncBuiltinESMExports();
    // The audit sample queries January 2026: the server's clock runs from 2026-01-20 so its records fall there.
    const offset = Date.now() - Date.parse('2026-01-20T12:00:00Z');
    t = await startTestServer({ clock: { now: () => Date.now() - offset }, config: { sandboxEgressAllow: ['127.0.0.1/32'], sandboxEgressCaFile: join(TLS, 'cert.pem') } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
    approverKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
    dir = mkdtempSync(join(here, '.seed-004-'));
  });
  afterAll(async () => {
    (dnsPromises as { lookup: unknown }).lookup = originalLookup;
    https.request = originalRequest;
    syncBuiltinESMExports();
    await t?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs prelude + sample + epilogue as a CommonJS script in a child Node process; returns the epilogue's JSON. */
  async function runScript(name: string, prelude: string, sample: string, epilogue: string): Promise<{ result: any; stdout: string }> {
    const file = join(dir, `${name}.cjs`);
    const print = (expression: string) => `console.log(${JSON.stringify(RESULT_MARK)} + JSON.stringify(${expression}));`;
    writeFileSync(file, `(async () => {\n${prelude}\n${sample}\n${epilogue.replace(/PRINT\((.*)\);/s, (_m, e: string) => print(e))}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, TOLLGATE_API_URL: t.url, TOLLGATE_API_KEY: key }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024,
    });
    const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
    return { result: line === undefined ? undefined : JSON.parse(line.slice(RESULT_MARK.length)), stdout };
  }

  it('Quick start: configure() and run() answer the promised result fields', async () => {
    const prelude = `${KEY_PRELUDE}\nconst churnDataset = [{ id: 1, churned: true }, { id: 2, churned: false }];`;
    const { result, stdout } = await runScript('quick-start', prelude, QUICK_START, 'PRINT(result);');
    expect(result).toMatchObject({ status: 'completed', executionId: expect.any(Number), durationMs: expect.any(Number), costTfuel: 0 });
    expect(result.auditTrailUrl).toMatch(new RegExp(`^${t.url}/api/v1/sdk/agents/\\d+/executions/${result.executionId}$`));
    // The placeholder entry code of a new agent echoes its input: the task and data made the round trip.
    expect(result.output).toEqual({ task: 'Analyze the user churn data and identify top 3 risk factors', received: expect.objectContaining({ data: { users: [{ id: 1, churned: true }, { id: 2, churned: false }] } }) });
    expect(stdout).toContain('Analyze the user churn data');
  });

  it('entry_code host API example: log, http_request to api.example.com, read_context, write_result', async () => {
    const created = await t.request('POST', '/api/v1/sdk/agents', { key, body: {
      name: 'host-api-sample', version: '2.1.0', entry_code: HOST_API_ENTRY_CODE,
      config: { allow_network: true, allowed_domains: ['api.example.com'], permissions: ['data:read', 'network:outbound'] },
    } });
    expect(created.status).toBe(201);
    const id = created.body.agent.id as number;
    expect((await t.request('PUT', `/api/v1/sdk/agents/${id}/context/run_count`, { key, body: { value: 4 } })).status).toBeLessThan(300);
    const run = await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: {} });
    expect(run.body, JSON.stringify(run.body)).toMatchObject({ status: 'completed', output: { processed: 3, run_number: 5 }, violation_count: 0 });
    expect(upstreamRequests.at(-1)).toEqual({ path: '/data', authorization: 'Bearer token' });
    expect(run.body.host_call_audit.map((c: { fn: string; allowed: boolean }) => [c.fn, c.allowed])).toEqual([
      ['log', true], ['log', true], ['http_request', true], ['log', true], ['read_context', true], ['write_result', true],
    ]);
    const detail = await t.request('GET', `/api/v1/sdk/agents/${id}/executions/${run.body.execution_id}`, { key });
    const logs = JSON.stringify(detail.body.logs);
    expect(logs).toContain('Starting execution');
    expect(logs).toContain('Agent: host-api-sample v2.1.0');
    expect(logs).toContain('Status: 200');
    // Without a context value, `?? 0` applies: run_number 1.
    const other = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'host-api-fresh', entry_code: HOST_API_ENTRY_CODE, config: { allow_network: true, allowed_domains: ['api.example.com'], permissions: ['data:read', 'network:outbound'] } } });
    const fresh = await t.request('POST', `/api/v1/sdk/agents/${other.body.agent.id}/execute`, { key, body: {} });
    expect(fresh.body.output).toEqual({ processed: 3, run_number: 1 });
  });

  it('Python sample entry_code ("Hello from the sandbox"): output and resource_usage as the comments say', async () => {
    const created = await t.request('POST', '/api/v1/sdk/agents', { key, body: { name: 'hello-world', description: 'Simplest possible SDK agent', entry_code: HELLO_ENTRY_CODE } });
    const id = created.body.agent.id as number;
    const run = await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: { input: { name: 'Alice' } } });
    expect(run.body).toMatchObject({ status: 'completed', output: { message: 'Hello, Alice!' } });
    expect(run.body.resource_usage).toMatchObject({ cpu_ms: expect.any(Number), api_calls: 0, host_calls: 2 });
    const list = await t.request('GET', `/api/v1/sdk/agents/${id}/executions`, { key });
    expect(list.body.executions[0]).toMatchObject({ status: 'completed', resource_usage: expect.objectContaining({ host_calls: 2 }) });
  });

  it('REST curl example (as fetch, same body text): the response and the execution response have the seed fields', async () => {
    const response = await fetch(`${t.url}/api/v1/sdk/agents`, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: CURL_REGISTER_BODY });
    const body = await response.json() as any;
    expect(body).toMatchObject({ success: true, agent: { id: expect.any(Number), name: 'my-summarizer', version: '1.0.0', status: 'ready',
      config: expect.objectContaining({ memory_limit_mb: 128, cpu_time_limit_ms: 15000, allow_network: false }) } });
    const run = await t.request('POST', `/api/v1/sdk/agents/${body.agent.id}/execute`, { key, body: {} });
    expect(run.body).toMatchObject({
      execution_id: expect.any(Number), status: 'completed', output: { ok: true },
      resource_usage: { cpu_ms: expect.any(Number), memory_mb: expect.any(Number), api_calls: 0, host_calls: 1 },
      host_call_audit: [expect.objectContaining({ fn: 'write_result', allowed: true, duration_ms: expect.any(Number) })],
      violation_count: 0, was_terminated: false,
    });
  });

  it('limits override within a template + verifyExecution()', async () => {
    const prelude = `${SDK_PRELUDE}const result = await new SecureAgent({ name: 'limits-override-run' }).run({ task: 'something to verify' });`;
    const { result, stdout } = await runScript('limits', prelude, LIMITS_OVERRIDE, 'await agent.configure();\nPRINT({ proof, agentId: agent.agentId });');
    expect(result.proof).toMatchObject({ tee_mode: 'none', attestation_id: null, chain_valid: true });
    expect(stdout.split('\n').slice(0, 3)).toEqual(['none', 'null', 'true']);
    const stored = await t.request('GET', `/api/v1/sdk/agents/${result.agentId}`, { key });
    expect(stored.body.agent.config).toMatchObject({ sandbox_template: 'STRICT', memory_limit_mb: 512, cpu_time_limit_ms: 180_000 });
  });

  it('permission presets and custom scopes', async () => {
    const epilogue = `const custom = new SecureAgent({ name: 'custom-scopes', permissions: ['inference:call', 'data:read'] });
await custom.configure();
PRINT({ presets: SecureAgent.permissions, agentId: custom.agentId });`;
    const { result } = await runScript('presets', SDK_PRELUDE, PRESETS, epilogue);
    expect(result.presets.CODER).toEqual(['compute:read', 'compute:write', 'inference:call', 'data:read', 'network:outbound']);
    expect(Object.keys(result.presets).sort()).toEqual(['ANALYST', 'CODER', 'FULL', 'READONLY', 'RESEARCHER', 'WRITER']);
    expect(result.presets.FULL).toHaveLength(10);
    const stored = await t.request('GET', `/api/v1/sdk/agents/${result.agentId}`, { key });
    expect(stored.body.agent.config.permissions).toEqual(['inference:call', 'data:read']);
  });

  it('audit trail: getAuditLog with the seed action types, verifyAuditRecord(12345), exportAuditLog csv', async () => {
    // verifyAuditRecord(12345) needs a ledger with a record 12345: the tenant gets that many records first.
    const size = await t.store.ledger.size(t.tenantA.id);
    for (let i = size; i <= 12_345; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, 12_346 - i) }, (_, j) => t.services.ledger.append(t.tenantA.id, { type: 'test.filler', data: { n: i + j } })));
    }
    await t.services.ledger.flush();
    // The agent makes one allowed host call (log) and one refused one (http_request without network permission).
    const entryCode = 'await thetazero.log("audited"); try { await thetazero.http_request("https://api.example.com/data"); } catch {} return 1;';
    const prelude = `${SDK_PRELUDE}const agent = new SecureAgent({ name: 'audited-sample', entryCode: ${JSON.stringify(entryCode)} });\nawait agent.run({ task: 'audit me' });`;
    const { result } = await runScript('audit', prelude, AUDIT, 'PRINT({ audit, proof, csv });');
    expect(result.audit).toMatchObject({ total: 2, anchored: expect.any(Boolean) }); // anchored: covered by a signed checkpoint yet
    expect(result.audit.events.map((e: { action_type: string; is_violation: boolean }) => [e.action_type, e.is_violation])).toEqual([['sandbox.host_call', false], ['sandbox.host_call', true]]);
    expect(result.proof).toMatchObject({ chain_valid: true, anchor_tx_hash: null, verified_at: expect.any(String), recordId: 12_345 });
    expect(result.csv.split('\r\n')[0]).toBe('index,recorded_at,type,actor,agent_id,execution_id,session_id,is_violation,description,data');
    expect(result.csv).toContain('sandbox.execution');
  });

  it('seed action types: permission_denied alone means refused calls only; mixed with unrelated types it is refused (400)', async () => {
    // Regression: the seed's action types matched no Tollgate record, so a query for denials answered an empty list.
    const denied = await t.request('GET', '/api/v1/audit/records?actionTypes=permission_denied', { key });
    expect(denied.body.total).toBeGreaterThan(0);
    expect(denied.body.events.every((e: { is_violation: boolean }) => e.is_violation)).toBe(true);
    const mixed = await t.request('GET', '/api/v1/audit/records?actionTypes=permission_denied,sandbox.execution', { key });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'actionTypes' } });
  });

  it('kill switch: agent.stop(), then the two fetch forms with a Bearer header', async () => {
    const prelude = `${SDK_PRELUDE}${PAGE_FETCH_PRELUDE}const agent = new SecureAgent({ name: 'kill-sample' });\nawait agent.configure();\nconst agentId = agent.agentId;\nconst apiKey = process.env.TOLLGATE_API_KEY;`;
    const { result } = await runScript('kill', prelude, KILL_SWITCH, 'PRINT({ agentId, status: res.status, body: await res.json() });');
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toMatchObject({ success: true, halted: true, reason: 'Policy violation' });
    const state = await t.request('GET', '/api/sdk/kill-switch', { key });
    expect(state.body.global).toMatchObject({ halted: true, reason: 'Emergency maintenance' });
    expect(state.body.agents).toContainEqual(expect.objectContaining({ agent_id: String(result.agentId), halted: true, reason: 'Policy violation' }));
    const refused = await t.request('POST', `/api/v1/sdk/agents/${result.agentId}/execute`, { key, body: {} });
    expect(refused.body.error.code).toBe('AGENT_HALTED');
    await t.request('POST', '/api/sdk/kill-switch/global', { key, body: { halted: false } });
    await t.request('POST', `/api/sdk/agents/${result.agentId}/unkill`, { key, body: {} });
  });

  it('kill routes read a text/plain body as JSON and refuse one that is not JSON', async () => {
    // Regression: fetch sends JSON.stringify(…) without Content-Type as text/plain, which the routes refused (400).
    const post = (body: string) => fetch(`${t.url}/api/sdk/agents/plain-text-agent/kill`, { method: 'POST', headers: { Authorization: `Bearer ${key}` }, body });
    const bad = await post('reason: not json');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const ok = await post(JSON.stringify({ reason: 'plain text' }));
    expect(await ok.json()).toMatchObject({ halted: true, reason: 'plain text', agent_id: 'plain-text-agent' });
  });

  it('permission request, approved by the owner, then run', async () => {
    const prelude = `${SDK_PRELUDE}const agent = new SecureAgent({ name: 'weather-agent' });\nawait agent.configure();\nconsole.log('${RESULT_MARK}' + JSON.stringify({ configured: agent.agentId }));`;
    const approve = (async () => {
      for (let i = 0; i < 800; i++) {
        const pending = await t.request('GET', '/api/sdk/permission-requests?status=pending', { key });
        const request = pending.body.requests.find((r: { justification: string }) => r.justification === 'Needs to call OpenWeatherMap for forecast data');
        if (request) return t.request('POST', `/api/sdk/permission-requests/${request.id}/approve`, { key: approverKey, body: { comment: 'ok' } });
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('no pending permission request appeared');
    })();
    const [{ stdout }] = await Promise.all([runScript('permission', prelude, PERMISSION_REQUEST, 'PRINT({ agentId: agent.agentId, result });'), approve]);
    const result = JSON.parse(stdout.split('\n').filter((l) => l.startsWith(RESULT_MARK)).at(-1)!.slice(RESULT_MARK.length));
    expect(result.result).toMatchObject({ status: 'completed', executionId: expect.any(Number) });
    const stored = await t.request('GET', `/api/v1/sdk/agents/${result.agentId}`, { key });
    expect(stored.body.agent.config).toMatchObject({ allow_network: true, max_api_calls_per_run: 500 });
  });

  it('live audit stream: streamAuditLog({ executionId: 1234 }) and the browser EventSource sample', async () => {
    // Both samples watch execution 1234 (the seed's placeholder for "your execution's id"): the sample's run is
    // given that id.
    nextExecutionIds.push(1234);
    const prelude = `${SDK_PRELUDE}${KEY_PRELUDE}${EVENT_SOURCE_PRELUDE}const agent = new SecureAgent({ name: 'streamed-sample', entryCode: 'await thetazero.log("Q1"); return 1;' });\nawait agent.configure();`;
    const epilogue = `
for (let i = 0; i < 500 && !seenBySource.some((e) => e.type === 'audit' && e.data.includes('sandbox.execution')); i++) await new Promise((r) => setTimeout(r, 20));
source.close();
PRINT({ seenBySource });`;
    // Between the two samples: the browser's EventSource is connected (a page would have been open for a while).
    const interlude = `for (let i = 0; i < 500 && !seenBySource.some((e) => e.type === 'connected'); i++) await new Promise((r) => setTimeout(r, 10));`;
    const { result, stdout } = await runScript('stream', prelude, `${STREAM_BROWSER}\n${interlude}\n${STREAM_NODE}`, epilogue);
    const audit = result.seenBySource.filter((e: { type: string }) => e.type === 'audit').map((e: { data: string }) => JSON.parse(e.data));
    expect(audit.map((a: { execution_id?: unknown; executionId?: unknown }) => String(a.execution_id ?? a.executionId))).toContain('1234');
    expect(stdout).toMatch(/sandbox\.execution/); // the browser sample's console.log(action.action_type, …)
    // The Node sample's console.log(`[${data.action_category}] …`): every record of the run, the last one included,
    // arrived before its stream.close() right after `await agent.run(…)`.
    expect(stdout).toMatch(/^\[sandbox\] sandbox\.host_call/m);
    expect(stdout).toMatch(/^\[sandbox\] sandbox\.execution/m);
  });
});
