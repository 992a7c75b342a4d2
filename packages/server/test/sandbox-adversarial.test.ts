import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { redactCredentials } from '../src/services/sandbox/credential-references.js';
import { TLS_CA_FILE, startTlsUpstream } from './fixtures/tls-upstream.js';

// Adversarial review of the sandbox as the server wires it (credentials, egress guard, ledger). The outside world is
// one local HTTPS server that records every request it receives; `/hang` accepts a request and never answers.
const SECRET = 'sk-live-adversarial-0c4f9a7e-TOPSECRET';
let stored: string | string[] | undefined;
const received: Array<{ method: string; url: string; host: string | undefined; authorization: string | undefined }> = [];

function startUpstream(): Promise<Server> {
  return startTlsUpstream((request, response, server) => {
    received.push({ method: request.method ?? '', url: request.url ?? '', host: request.headers.host, authorization: request.headers.authorization });
    if (request.url === '/hang') return;
    if (request.url === '/store') stored = request.headers['x-api-key'];
    if (request.url === '/echo-text') {
      // As PHP's `echo json_encode($headers)` answers (text/html, slashes escaped), plus the usual error-page forms.
      const key = String(request.headers['x-api-key']);
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(`${JSON.stringify({ key }).replace(/\//g, '\\/')} <a href="?key=${encodeURIComponent(key)}">${key.replace(/&/g, '&amp;')}</a> ${lowerHex(encodeURIComponent(key))}`);
      return;
    }
    if (request.url === '/load') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ stored }));
      return;
    }
    if (request.url === '/bounce') {
      response.writeHead(307, { location: `https://127.0.0.1:${(server.address() as AddressInfo).port}/landed?sig=s1gn4ture` });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ path: request.url, authorization: request.headers.authorization ?? null }));
  });
}

describe('sandbox adversarial review, through the server', () => {
  let t: TestServer;
  let upstream: Server;
  let key: string;
  let upstreamUrl: string;
  beforeAll(async () => {
    upstream = await startUpstream();
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    t = await startTestServer({ config: { sandboxEgressAllow: ['127.0.0.1/32'], sandboxEgressCaFile: TLS_CA_FILE } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    const created = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'granted', value: SECRET, type: 'api_key' } });
    expect(created.status).toBe(201);
    await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'payroll', value: `${SECRET}-payroll`, type: 'api_key' } });
  });
  afterAll(async () => {
    await t?.close();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });
  beforeEach(() => { received.length = 0; });

  const runAgent = async (name: string, entry: string, config: Record<string, unknown>, input: unknown = { url: upstreamUrl }) => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key, body: { name, entry_code: entry, config: { sandbox_template: 'STANDARD', permissions: ['network:outbound'], ...config } },
    });
    expect(agent.status).toBe(201);
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input } });
    expect(run.status).toBe(200);
    return run.body;
  };

  // A credential the agent was not granted was refused, but audited as an allowed call that merely failed
  // (`failed: CREDENTIAL_UNKNOWN`, no violation): an agent probing for other agents' credentials never showed up
  // under permission_denied.
  it('audits a reference to a credential the agent was not granted as a denied call and a violation', async () => {
    const entry = `return await thetazero.http_request(input.url, 'GET', { Authorization: 'Bearer {{credential:payroll}}' }).then(() => 'sent', (e) => e.code);`;
    const run = await runAgent('probe-credentials', entry, { credentials: ['granted'] });
    expect(run.output).toBe('CREDENTIAL_UNKNOWN');
    expect(received).toEqual([]);
    expect(run.host_call_audit).toEqual([expect.objectContaining({ fn: 'http_request', allowed: false, reason: expect.stringMatching(/^credential_denied/) })]);
    expect(run.violation_count).toBe(1);
    const hostCalls = (await ledgerRecords(t)).filter((r) => r.type === 'sandbox.host_call' && r.executionId === String(run.execution_id));
    expect(hostCalls.map((r) => r.isViolation)).toEqual([true]);
  });

  // Host chosen by the guest: the request went to the allowed address with the guest's Host (and SNI), i.e. to any
  // other site sharing that address, carrying the substituted credential.
  it('refuses a guest-chosen Host header next to a credential; the upstream receives nothing', async () => {
    const entry = `return await thetazero.http_request(input.url + '/x', 'GET', { Host: 'evil.example', Authorization: 'Bearer {{credential:granted}}' })
      .then((r) => r.body, (e) => e.code);`;
    const run = await runAgent('fronting', entry, { credentials: ['granted'] });
    expect(run.output).toBe('PERMISSION_DENIED');
    expect(received).toEqual([]);
    expect(run.host_call_audit).toEqual([expect.objectContaining({ allowed: false, reason: 'forbidden_header:host' })]);
    expect(JSON.stringify(run)).not.toContain('TOPSECRET');
  });

  // A POST that reached the upstream was missing from the stored host-call audit and the ledger when the run hit its
  // deadline before the reply.
  it('stores and ledgers a request still in flight when the run times out, before the execution record', async () => {
    const entry = `await thetazero.http_request(input.url + '/hang', 'POST', { Authorization: 'Bearer {{credential:granted}}' }, { amount: 100 });`;
    const run = await runAgent('in-flight', entry, { credentials: ['granted'], cpu_time_limit_ms: 1500 });
    expect(run.status).toBe('timeout');
    expect(received).toEqual([expect.objectContaining({ method: 'POST', url: '/hang', authorization: `Bearer ${SECRET}` })]);
    const audited = expect.objectContaining({ fn: 'http_request', allowed: true, reason: expect.stringMatching(/^unfinished/) });
    expect(run.host_call_audit).toEqual([audited]);
    const stored = await t.store.sandboxExecutions.get(t.tenantA.id, run.execution_id);
    expect(stored?.hostCallAudit).toEqual([audited]);
    const records = (await ledgerRecords(t)).filter((r) => r.executionId === String(run.execution_id));
    const types = records.map((r) => r.type);
    expect(types).toContain('sandbox.host_call');
    expect(types.indexOf('sandbox.host_call')).toBeLessThan(types.indexOf('sandbox.execution'));
    expect(JSON.stringify([run, stored, records])).not.toContain('TOPSECRET');
  });

  // The audit named only the URL the guest asked for, not where a redirect (307: method and body kept) took it.
  it('audits where a redirect took the request, in the stored execution and the ledger, without the query', async () => {
    const entry = `return (await thetazero.http_request(input.url + '/bounce', 'POST', {}, { data: 1 })).body.path;`;
    const run = await runAgent('redirected', entry, {});
    expect(run.output).toBe('/landed?sig=s1gn4ture');
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /bounce', 'POST /landed?sig=s1gn4ture']);
    const summary = `POST ${upstreamUrl}/bounce -> ${upstreamUrl}/landed`;
    expect(run.host_call_audit).toEqual([expect.objectContaining({ args_summary: summary })]);
    const records = (await ledgerRecords(t)).filter((r) => r.executionId === String(run.execution_id) && r.type === 'sandbox.host_call');
    expect(records).toHaveLength(1);
    expect(records[0]?.body).toContain(summary);
    expect(JSON.stringify([run.host_call_audit, records])).not.toContain('s1gn4ture');
  });

  // Scrubbing covered only the response of the call that carried the credential: an upstream that keeps what it is
  // sent (a paste, a webhook inbox, a profile field) handed the secret back to a second call without a reference.
  it('scrubs a credential from every later response of the run, not only the one that carried it', async () => {
    const entry = `await thetazero.http_request(input.url + '/store', 'POST', { 'X-Api-Key': '{{credential:granted}}' }, 'x');
      return (await thetazero.http_request(input.url + '/load')).body;`;
    const run = await runAgent('readback', entry, { credentials: ['granted'] });
    expect(stored).toBe(SECRET);
    expect(run.output).toEqual({ stored: '[credential:granted]' });
    expect(JSON.stringify(run)).not.toContain('TOPSECRET');
  });

  // Only the exact value was scrubbed: an upstream echoing it JSON-escaped in a text body (PHP writes `\/`), or
  // percent- or HTML-encoded, gave the guest a form it decodes in one line.
  it('scrubs the JSON-escaped, percent-encoded and HTML-escaped forms of an echoed credential', async () => {
    const slashy = 'tg/sk+live/AbC=&Def/9f8e7d6c5b4a';
    await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'slashy', value: slashy, type: 'api_key' } });
    const entry = `return (await thetazero.http_request(input.url + '/echo-text', 'GET', { 'X-Api-Key': '{{credential:slashy}}' })).body;`;
    const run = await runAgent('echo-text', entry, { credentials: ['slashy'] });
    expect(typeof run.output).toBe('string');
    expect(run.output).toContain('[credential:slashy]');
    for (const form of [slashy, 'sk+live\\/AbC', encodeURIComponent(slashy), 'AbC=&amp;Def', lowerHex(encodeURIComponent(slashy))]) {
      expect(run.output).not.toContain(form);
    }
    expect(run.output).not.toContain('9f8e7d6c5b4a');
  });

  it('still scrubs a granted credential echoed by the upstream (what held)', async () => {
    const entry = `return await thetazero.http_request(input.url + '/echo', 'GET', { Authorization: 'Bearer {{credential:granted}}' }).then((r) => r.body);`;
    const run = await runAgent('echo', entry, { credentials: ['granted'] });
    expect(received).toEqual([expect.objectContaining({ authorization: `Bearer ${SECRET}` })]);
    expect(run.output).toEqual({ path: '/echo', authorization: 'Bearer [credential:granted]' });
    expect(JSON.stringify(run)).not.toContain('TOPSECRET');
  });
});

/** Percent escapes in lower case (`%2f`), as some servers write them. */
function lowerHex(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

interface LedgerRow { index: number; type: string; executionId: string | null; isViolation: boolean; body: string }

/** Ledger records of tenant A, oldest first, parsed from their canonical JSON bodies. */
async function ledgerRecords(t: TestServer): Promise<LedgerRow[]> {
  await t.services.ledger.flush();
  const rows = await t.store.ledger.records(t.tenantA.id, {}, 100_000);
  return rows.map((row) => {
    const body = JSON.parse(row.body) as Record<string, unknown>;
    const executionId = body.executionId ?? body.execution_id ?? null;
    return {
      index: row.index, type: String(body.type), executionId: executionId === null ? null : String(executionId),
      isViolation: Boolean(body.isViolation ?? body.is_violation), body: row.body,
    };
  });
}

describe('credential scrubbing cost (runs on the request thread)', () => {
  // Each of up to max_api_calls_per_run responses (2 MiB each) is scrubbed on the server's request thread, so its cost
  // is a guest-controlled stall for every tenant: a split and join per string and per encoded form cost 2-3 times a
  // full JSON copy of the body (0.1-0.6 s here); one regular-expression pass, skipping strings too short to hold a
  // secret, costs a fraction of it.
  it('scrubs a 2 MiB response of tiny strings at about the cost of copying it', () => {
    const body = JSON.parse(`[${Array(524_288).fill('"a"').join(',')}]`) as string[];
    const response = { status: 200, headers: {}, body: [...body, `x ${SECRET} y`] };
    const copyStarted = performance.now();
    JSON.parse(JSON.stringify(response));
    const copyMs = performance.now() - copyStarted;
    const started = performance.now();
    const scrubbed = redactCredentials(response, new Map([['granted', SECRET]]));
    const elapsedMs = performance.now() - started;
    expect(scrubbed.body.at(-1)).toBe('x [credential:granted] y');
    expect(elapsedMs).toBeLessThan(Math.max(1.5 * copyMs, 30));
  });
});
