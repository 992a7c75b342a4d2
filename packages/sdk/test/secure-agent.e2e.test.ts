import { execFile } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { canonicalJson } from '@tollgate/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { SDKError, SecureAgent } from '../src/index.js';
import { QUICK_START } from './fixtures/seed-004-samples.js';

const here = dirname(fileURLToPath(import.meta.url));

// The seed's Quick start, as written; only the package name differs. CommonJS has no top-level await, so the
// harness wraps it in an async function and defines the `churnDataset` the seed leaves to the reader.
const SEED_QUICK_START = QUICK_START; // the seed text, kept once in fixtures/seed-004-samples.ts

describe('SecureAgent against a real server', () => {
  let t: TestServer;
  let key: string;
  let approverKey: string;
  beforeAll(async () => {
    t = await startTestServer();
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'audit:read'] })).token;
    approverKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs the seed Quick start as written (CommonJS require, TOLLGATE_API_URL for the server)', async () => {
    const dir = mkdtempSync(join(here, '.quickstart-'));
    try {
      const script = `const churnDataset = [{ id: 1, churned: true }, { id: 2, churned: false }];\n(async () => {\n${SEED_QUICK_START.replace("'tzk_your_api_key'", JSON.stringify(key))}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
      writeFileSync(join(dir, 'quickstart.cjs'), script);
      const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'quickstart.cjs')], { env: { ...process.env, TOLLGATE_API_URL: t.url }, timeout: 30_000 });
      const agents = await t.request('GET', '/api/v1/sdk/agents', { key });
      const quick = agents.body.agents.find((a: { name: string }) => a.name === 'secure-agent');
      const runs = await t.request('GET', `/api/v1/sdk/agents/${quick?.id}/executions`, { key });
      expect(stdout, JSON.stringify(runs.body.executions?.[0] ?? runs.body)).toContain('Analyze the user churn data and identify top 3 risk factors');
      // The placeholder entry code of a new agent echoes its input: the task and data made the round trip.
      expect(stdout).toMatch(/received: \{[^]*users/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run() returns executionId, status, output, durationMs, costTfuel and auditTrailUrl', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'shape', entryCode: 'return { n: input.data.n * 2, task: input.task };' });
    const result = await agent.run({ task: 'double', data: { n: 21 } });
    expect(result).toMatchObject({ status: 'completed', output: { n: 42, task: 'double' }, costTfuel: 0, wasTerminated: false, violationCount: 0 });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const trail = await fetch(result.auditTrailUrl, { headers: { authorization: `Bearer ${key}` } });
    expect((await trail.json()).execution_id).toBe(result.executionId);
  });

  it('configure() applies template, limits and scopes to the server agent', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'limits', sandbox: 'STRICT', limits: { maxMemoryMb: 512, maxExecutionTimeSec: 180, maxApiCallsPerRun: 7 }, permissions: SecureAgent.permissions.WRITER });
    await agent.configure();
    const stored = await t.request('GET', `/api/v1/sdk/agents/${agent.agentId}`, { key });
    expect(stored.body.agent.config).toEqual({ sandbox_template: 'STRICT', permissions: ['inference:call', 'data:read'], memory_limit_mb: 512, cpu_time_limit_ms: 180_000, max_api_calls_per_run: 7 });
    const run = await agent.run({ task: 'x' });
    const detail = await t.request('GET', `/api/v1/sdk/agents/${agent.agentId}/executions/${run.executionId}`, { key });
    expect(detail.body.resolved_config).toMatchObject({ template: 'STRICT', memory_limit_mb: 512, cpu_time_limit_ms: 180_000, max_api_calls_per_run: 7, allow_network: false });
  });

  it('verifyExecution() returns a statement signed with Ed25519 that checks offline, tee_mode none', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'verified', entryCode: 'return "v";' });
    const { executionId } = await agent.run({ task: 't' });
    const proof = await agent.verifyExecution(executionId) as any;
    expect(proof).toMatchObject({ tee_mode: 'none', attestation_id: null, execution_id: executionId, chain_valid: true });
    expect(proof.statement).toMatchObject({ execution_id: executionId, status: 'completed', tee_mode: 'none' });
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(proof.signature.public_key, 'base64').toString('base64url') }, format: 'jwk' });
    expect(verify(null, Buffer.from(canonicalJson(proof.statement)), publicKey, Buffer.from(proof.signature.signature, 'base64'))).toBe(true);
    const forged = { ...proof.statement, output_hash: 'sha256:' + '0'.repeat(64) };
    expect(verify(null, Buffer.from(canonicalJson(forged)), publicKey, Buffer.from(proof.signature.signature, 'base64'))).toBe(false);
  });

  it('storeCredential() and rotateCredential() never return the value', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'creds' });
    const stored = await agent.storeCredential({ name: 'sdk-secret', value: 'value-one-123456' });
    expect(JSON.stringify(stored)).not.toContain('value-one');
    const rotated = await agent.rotateCredential(stored.id, 'value-two-123456');
    expect(rotated).toMatchObject({ name: 'sdk-secret', status: 'active', rotated_from: stored.id });
    expect(JSON.stringify(rotated)).not.toContain('value-two');
  });

  it('requestPermission() resolves on approval and throws PERMISSION_DENIED / PERMISSION_EXPIRED otherwise', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'asks' });
    await agent.configure();
    const decideNext = (action: 'approve' | 'deny') => (async () => {
      for (;;) {
        const pending = await t.request('GET', '/api/sdk/permission-requests?status=pending', { key });
        const mine = pending.body.requests.find((r: { agent_id: number }) => r.agent_id === agent.agentId);
        if (mine) return t.request('POST', `/api/sdk/permission-requests/${mine.id}/${action}`, { key: approverKey, body: { comment: action } });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const [approved] = await Promise.all([agent.requestPermission({ permissions: { allow_network: true, max_api_calls_per_run: 500 }, justification: 'forecast', timeoutMs: 10_000 }), decideNext('approve')]);
    expect(approved.status).toBe('approved');
    const [denied] = await Promise.all([agent.requestPermission({ permissions: { allow_network: true }, timeoutMs: 10_000 }).catch((e: unknown) => e), decideNext('deny')]);
    expect(denied).toBeInstanceOf(SDKError);
    expect((denied as SDKError).code).toBe('PERMISSION_DENIED');
    const expired = await agent.requestPermission({ permissions: { allow_network: true }, timeoutMs: 100 }).catch((e: unknown) => e);
    expect((expired as SDKError).code).toBe('PERMISSION_EXPIRED');
  });

  // The compliance methods are exercised in compliance.e2e.test.ts.
  it('bad options throw INVALID_OPTIONS', async () => {
    expect(() => new SecureAgent({ apiKey: key, sandbox: 'LOOSE' as never })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTIONS' }) as unknown as Error);
  });

  it('server errors keep their code: a wrong key is UNAUTHENTICATED', async () => {
    const agent = new SecureAgent({ apiKey: 'tzk_your_api_key', baseUrl: t.url });
    await expect(agent.configure()).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('stop() kills the running execution, later runs are refused with AGENT_HALTED', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'stoppable', entryCode: 'while (true) {}', limits: { maxExecutionTimeSec: 60 } });
    await agent.configure();
    const running = agent.run({ task: 'spin' });
    for (let i = 0; i < 200 && t.services.sandboxRuntime.activeCount === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await agent.stop('Suspicious output detected — halting for review');
    const result = await running;
    expect(result).toMatchObject({ status: 'killed', wasTerminated: true });
    await expect(agent.run({ task: 'again' })).rejects.toMatchObject({ code: 'AGENT_HALTED', status: 409 });
    await t.request('POST', `/api/sdk/agents/${agent.agentId}/unkill`, { key, body: {} });
  });

  it('getAuditLog(), verifyAuditRecord() and exportAuditLog() read this agent\'s ledger records', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'audited', entryCode: 'await thetazero.log("hi"); return 1;' });
    const { executionId } = await agent.run({ task: 'audit me' });
    await t.services.ledger.flush();
    const log = await agent.getAuditLog({ actionTypes: ['sandbox.execution', 'sandbox.host_call'], limit: 50 }) as { events: Array<{ id?: number; index?: number; action_type?: string; type?: string; execution_id?: string; executionId?: string }>; total: number };
    expect(log.total).toBe(2); // the log() host call and the execution
    const first = log.events[0]!;
    const recordId = first.id ?? first.index!;
    const proof = await agent.verifyAuditRecord(recordId) as { chain_valid: boolean };
    expect(proof.chain_valid).toBe(true);
    const csv = await agent.exportAuditLog('csv', { executionId }) as string;
    expect(typeof csv).toBe('string');
    expect(csv).toContain('sandbox.execution');
    const summary = await agent.exportAuditLog('summary') as Record<string, unknown>;
    expect(typeof summary).toBe('object');
  });

  it('streamAuditLog() delivers the execution\'s records live', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: t.url, name: 'streamed', entryCode: 'await thetazero.log("live"); return 2;' });
    await agent.configure();
    const seen: Array<{ type: string; data: any }> = [];
    const stream = agent.streamAuditLog({}, (type, data) => seen.push({ type, data }));
    try {
      for (let i = 0; i < 100 && !seen.some((e) => e.type === 'connected'); i++) await new Promise((r) => setTimeout(r, 20));
      await agent.run({ task: 'stream me' });
      for (let i = 0; i < 200 && !seen.some((e) => e.type === 'audit' && JSON.stringify(e.data).includes('sandbox.execution')); i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      stream.close();
    }
    expect(seen.map((e) => e.type)).toContain('connected');
    expect(seen.some((e) => e.type === 'audit' && JSON.stringify(e.data).includes('sandbox.execution'))).toBe(true);
  });

  it('runs with a key restricted to its agent: configure, run, verify, ask for more, stop; cannot widen itself', async () => {
    const entryCode = 'return input.task;';
    const options = { baseUrl: t.url, name: 'restricted-bot', entryCode, permissions: SecureAgent.permissions.READONLY };
    // The operator registers the agent and its permissions with an unrestricted key ...
    await new SecureAgent({ apiKey: key, ...options }).configure();
    const restricted = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'], agentIds: ['restricted-bot'] })).token;
    // ... and the agent process runs the same code with a key restricted to it.
    const agent = new SecureAgent({ apiKey: restricted, ...options });
    const result = await agent.run({ task: 'hello' });
    expect(result).toMatchObject({ status: 'completed', output: 'hello' });
    expect(await agent.verifyExecution(result.executionId)).toMatchObject({ tee_mode: 'none' });
    const wider = new SecureAgent({ apiKey: restricted, ...options, permissions: SecureAgent.permissions.FULL });
    await expect(wider.configure()).rejects.toMatchObject({ status: 403, code: 'KEY_AGENT_FORBIDDEN' });
    await expect(new SecureAgent({ apiKey: restricted, baseUrl: t.url, name: 'someone-else', entryCode }).run({ task: 'x' })).rejects.toMatchObject({ status: 403, code: 'KEY_AGENT_FORBIDDEN' });
    const asked = agent.requestPermission({ permissions: { permissions: ['network:outbound'] }, justification: 'fetch a page', timeoutMs: 5_000 });
    for (let i = 0; i < 100; i++) {
      const pending = await t.request('GET', '/api/sdk/permission-requests?status=pending', { key });
      const mine = pending.body.requests?.find((request: { agent_id: number }) => request.agent_id === Number(agent.agentId));
      if (mine) {
        await t.request('POST', `/api/sdk/permission-requests/${mine.id}/deny`, { key: approverKey, body: { comment: 'not now' } });
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect(asked).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await agent.stop('done');
    await expect(agent.run({ task: 'again' })).rejects.toMatchObject({ code: 'AGENT_HALTED' });
    await t.request('POST', `/api/sdk/agents/${agent.agentId}/unkill`, { key, body: {} });
  });
});
