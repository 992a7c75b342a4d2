// Responses were scrubbed of every granted credential value, replacing it with a visible `[credential:NAME]`: agent
// code sent candidate strings to an echoing host and saw which one came back as the marker, recovering a 6-digit PIN
// in a few calls, with no `credential.used` record and nothing in the ledger. Now a value shorter than 16 characters
// cannot be granted (422 `CREDENTIAL_TOO_SHORT` when the config names it) nor used or scrubbed (every request of a run
// of an agent granted one fails with that code), and a granted value that comes back in a response without having
// been sent in the run is recorded as a violation, so an operator sees probing.
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { createHostHandlers } from '../src/services/sandbox/host-handlers.js';
import { TLS_CA_FILE, startTlsUpstream } from './fixtures/tls-upstream.js';

const PIN = '493817';
const LONG = 'sk-live-oracle-7Hq2Lr9Xw4Zp1Kd8';

/** Echoes the request body (a JSON array of candidates) and the Authorization header back. */
function startEchoServer(): Promise<Server> {
  return startTlsUpstream((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ echoed: body === '' ? [] : (JSON.parse(body) as unknown), authorization: request.headers.authorization ?? null }));
    });
  });
}

// Sends every candidate to the echo host and reports which one came back as a credential marker.
const GUESSER = `
  try {
    const resp = await thetazero.http_request(input.url, 'POST', { 'content-type': 'application/json', ...(input.headers ?? {}) }, JSON.stringify(input.candidates));
    const hit = resp.body.echoed.findIndex((s) => s.startsWith('[credential:'));
    return { found: hit === -1 ? null : input.candidates[hit], authorization: resp.body.authorization };
  } catch (error) {
    return { error: error.code, message: error.message };
  }`;

describe('sandbox credentials: the scrubbing marker is no oracle for short values, and probing is recorded', () => {
  let t: TestServer;
  let upstream: Server;
  let key: string;
  let url: string;

  const register = (name: string, credentials: string[]) => t.request('POST', '/api/v1/sdk/agents', {
    key, body: { name, entry_code: GUESSER, config: { sandbox_template: 'STANDARD', permissions: ['network:outbound'], credentials } },
  });
  const execute = async (agentId: number, input: Record<string, unknown>) => {
    const run = await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: { input: { url, ...input } } });
    expect(run.status).toBe(200);
    return run.body;
  };
  const ledger = async (filter: { types?: string[]; executionId?: string; violationsOnly?: boolean }) => {
    await t.services.ledger.flush();
    return (await t.store.ledger.records(t.tenantA.id, filter, 100_000)).map((record) => JSON.parse(record.body) as Record<string, unknown>);
  };
  /** One candidate per 6-digit PIN starting with the PIN's first two digits: the red team's batches. */
  const pinCandidates = Array.from({ length: 10_000 }, (_, i) => `${PIN.slice(0, 2)}${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    upstream = await startEchoServer();
    url = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}/echo`;
    t = await startTestServer({ config: { sandboxEgressAllow: ['127.0.0.1/32'], sandboxEgressCaFile: TLS_CA_FILE } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents', 'approvals'] })).token;
    expect((await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'long_key', value: LONG } })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('refuses to grant a credential shorter than 16 characters, on registration, PATCH and an approved grant', async () => {
    expect((await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'door_pin', value: PIN } })).status).toBe(201);
    const registered = await register('pin-reader', ['door_pin']);
    expect(registered.status).toBe(422);
    expect(registered.body.error).toMatchObject({ code: 'CREDENTIAL_TOO_SHORT', details: { field: 'config.credentials', credential: 'door_pin', min_length: 16 } });
    expect(registered.body.error.message).toMatch(/shorter than 16 characters/);

    const plain = await register('pin-patcher', ['long_key']);
    expect(plain.status).toBe(201);
    const patched = await t.request('PATCH', `/api/v1/sdk/agents/${plain.body.agent.id}`, {
      key, body: { config: { ...plain.body.agent.config, credentials: ['long_key', 'door_pin'] } },
    });
    expect(patched.status).toBe(422);
    expect(patched.body.error.code).toBe('CREDENTIAL_TOO_SHORT');
    await expect(t.services.sandboxAgents.grant(t.tenantA.id, plain.body.agent.id, { credentials: ['door_pin'] }, 'approver'))
      .rejects.toMatchObject({ code: 'CREDENTIAL_TOO_SHORT' });
    expect((await t.request('GET', `/api/v1/sdk/agents/${plain.body.agent.id}`, { key })).body.agent.config.credentials).toEqual(['long_key']);
  });

  it('an agent granted a short credential before it existed can neither guess it from the marker nor send it', async () => {
    const agent = await register('legacy-pin', ['legacy_pin']); // granted before the credential was stored: nothing to check yet
    expect(agent.status).toBe(201);
    expect((await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'legacy_pin', value: PIN } })).status).toBe(201);

    const guessed = await execute(agent.body.agent.id, { candidates: pinCandidates });
    expect(guessed.output).toMatchObject({ error: 'CREDENTIAL_TOO_SHORT' });
    expect(guessed.output.message).toMatch(/legacy_pin.*shorter than 16 characters/);
    expect(JSON.stringify(guessed)).not.toContain('[credential:');

    const sent = await execute(agent.body.agent.id, { candidates: [], headers: { Authorization: 'Bearer {{credential:legacy_pin}}' } });
    expect(sent.output).toMatchObject({ error: 'CREDENTIAL_TOO_SHORT' });
    expect(await ledger({ types: ['credential.used'], executionId: String(sent.execution_id) })).toEqual([]);
  });

  it('records a granted value that comes back without having been sent as a violation of the run', async () => {
    const agent = await register('long-prober', ['long_key']);
    expect(agent.status).toBe(201);
    const probed = await execute(agent.body.agent.id, { candidates: ['sk-live-oracle-wrong-guess', LONG] });
    expect(probed.output.found).toBe(LONG); // the oracle exists in principle for a guessed value; it is now on record
    expect(probed.violation_count).toBe(1);
    const records = await ledger({ types: ['sandbox.credential_in_response'], executionId: String(probed.execution_id), violationsOnly: true });
    expect(records).toHaveLength(1);
    expect(JSON.stringify(records)).toContain('long_key');
    expect(JSON.stringify(records)).toContain(`POST ${url}`);
    expect(JSON.stringify(records)).not.toContain(LONG);

    // The ordinary echo of a value the run sent is not probing.
    const echoed = await execute(agent.body.agent.id, { candidates: [], headers: { Authorization: 'Bearer {{credential:long_key}}' } });
    expect(echoed.output.authorization).toBe('Bearer [credential:long_key]');
    expect(echoed.violation_count).toBe(0);
    expect(await ledger({ types: ['sandbox.credential_in_response'], executionId: String(echoed.execution_id) })).toEqual([]);
  });
});

describe('host handlers: which values count as probing, and which are scrubbed', () => {
  const context = { executionId: 1, agentName: 'a', config: {} as never, signal: new AbortController().signal };
  const handlersWith = (echo: string, values: Map<string, string[]>, reports: unknown[]) => createHostHandlers({
    tenantId: 't', agentId: 1, config: {} as never, allowedCredentials: [...values.keys()],
    resolveCredentials: async (names) => new Map(names.map((name) => [name, values.get(name)![0]!])),
    scrubValues: async () => values,
    readContext: async () => null,
    fetch: async () => ({ status: 200, headers: {}, body: echo }),
    onUnsentCredential: (event) => reports.push(event),
  });

  it('a sent value echoed back, also lower-cased in a redirect hop, is no probe; an unsent one is', async () => {
    const reports: unknown[] = [];
    const handlers = handlersWith(`got ${LONG}`, new Map([['long_key', [LONG]], ['other', ['Other-Value-0123456789']]]), reports);
    const args = { url: 'https://api.example/x?q=1', method: 'GET', headers: { Authorization: '{{credential:long_key}}' }, body: undefined };
    expect((await handlers.http_request!(args, context)).body).toBe('got [credential:long_key]');
    expect(handlers.redact!(`https://${LONG.toLowerCase()}.example/`)).toBe('https://[credential:long_key].example/');
    expect(reports).toEqual([]);
    expect(handlers.redact!('https://other-value-0123456789.example/')).toBe('https://[credential:other].example/');
    expect(reports).toEqual([{ credentials: ['other'], source: 'redirect or error message' }]);
  });

  it('a short value a rotation replaced is neither scrubbed nor reported; a long active one still is', async () => {
    const reports: unknown[] = [];
    const handlers = handlersWith(`${PIN} ${LONG}`, new Map([['long_key', [LONG, PIN]]]), reports);
    const answer = await handlers.http_request!({ url: 'https://api.example/x', method: 'GET', headers: {}, body: undefined }, context);
    expect(answer.body).toBe(`${PIN} [credential:long_key]`);
    expect(reports).toEqual([{ credentials: ['long_key'], source: 'GET https://api.example/x' }]);
  });
});
