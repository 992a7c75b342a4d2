import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { TLS_CA_FILE, startTlsUpstream } from './fixtures/tls-upstream.js';

const SECRET = 'sk-live-9f8e7d6c5b4a-TOPSECRET';

// An upstream API that echoes the request headers back, the worst case for leaking a substituted secret.
function startEchoServer(): Promise<Server> {
  return startTlsUpstream((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'x-echo-auth': String(request.headers.authorization ?? '') });
    response.end(JSON.stringify({ authorization: request.headers.authorization ?? null, path: request.url }));
  });
}

describe('credentials: vault, REST, and substitution in http_request', () => {
  let t: TestServer;
  let upstream: Server;
  let key: string;
  let upstreamUrl: string;
  beforeAll(async () => {
    upstream = await startEchoServer();
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    t = await startTestServer({ config: { sandboxEgressAllow: ['127.0.0.1/32'], sandboxEgressCaFile: TLS_CA_FILE } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('stores a credential without ever answering its value, and keeps it sealed at rest', async () => {
    const created = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'openweather', value: SECRET, type: 'api_key' } });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    expect(created.body).toMatchObject({ name: 'openweather', status: 'active' });
    const listed = await t.request('GET', '/api/v1/sdk/credentials', { key });
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    const row = await t.store.credentials.get(t.tenantA.id, created.body.id);
    expect(row?.sealedValue).toMatch(/^tgv1\./);
    expect(row?.sealedValue).not.toContain(SECRET);
    const duplicate = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'openweather', value: 'x' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('CREDENTIAL_NAME_TAKEN');
  });

  it('substitutes {{credential:NAME}} host-side; the value never reaches output, logs, audit, DB rows or the ledger', async () => {
    const entry = `
      const resp = await thetazero.http_request(input.url, 'GET', { Authorization: 'Bearer {{credential:openweather}}' });
      await thetazero.log('echoed ' + JSON.stringify(resp));
      return resp;`;
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key, body: { name: 'weather', entry_code: entry, config: { sandbox_template: 'STANDARD', permissions: ['network:outbound'], credentials: ['openweather'] } },
    });
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key, body: { input: { url: `${upstreamUrl}/weather?q=NYC` } } });
    expect(run.body.status).toBe('completed');
    // The upstream really received the secret...
    expect(run.body.output.body.path).toBe('/weather?q=NYC');
    // ...but the guest only ever saw the redacted form.
    expect(run.body.output.body.authorization).toBe('Bearer [credential:openweather]');
    expect(run.body.output.headers['x-echo-auth']).toBe('Bearer [credential:openweather]');
    const detail = await t.request('GET', `/api/v1/sdk/agents/${agent.body.agent.id}/executions/${run.body.execution_id}`, { key });
    const everything = JSON.stringify([run.body, detail.body, await t.store.sandboxExecutions.get(t.tenantA.id, run.body.execution_id)]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('TOPSECRET');
    const ledgerDump = JSON.stringify(await dumpLedger(t));
    expect(ledgerDump).toContain('credential.used');
    expect(ledgerDump).toContain('sandbox.host_call');
    expect(ledgerDump).not.toContain('TOPSECRET');
  });

  it('refuses a credential the agent was not granted, and an unknown one', async () => {
    const entry = `return await thetazero.http_request(input.url, 'GET', { Authorization: '{{credential:' + input.name + '}}' }).then(() => 'sent', (e) => e.message);`;
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key, body: { name: 'ungranted', entry_code: entry, config: { sandbox_template: 'STANDARD', permissions: ['network:outbound'], credentials: ['missing'] } },
    });
    const id = agent.body.agent.id;
    const notGranted = await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: { input: { url: upstreamUrl, name: 'openweather' } } });
    expect(notGranted.body.output).toMatch(/not granted/);
    const unknown = await t.request('POST', `/api/v1/sdk/agents/${id}/execute`, { key, body: { input: { url: upstreamUrl, name: 'missing' } } });
    expect(unknown.body.output).toMatch(/does not exist or is revoked/);
  });

  it('rotates atomically: the old id is revoked, the name resolves to the new value', async () => {
    const created = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'rotating', value: 'first-value-1234' } });
    const rotated = await t.request('POST', `/api/v1/sdk/credentials/${created.body.id}/rotate`, { key, body: { value: 'second-value-5678' } });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ name: 'rotating', status: 'active', rotated_from: created.body.id });
    expect((await t.request('GET', `/api/v1/sdk/credentials/${created.body.id}`, { key })).body.status).toBe('revoked');
    const again = await t.request('POST', `/api/v1/sdk/credentials/${created.body.id}/rotate`, { key, body: { value: 'third' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CREDENTIAL_REVOKED');
    const values = await t.services.credentials.resolve(t.tenantA.id, ['rotating'], { agentId: '0', executionId: '0' });
    expect(values.get('rotating')).toBe('second-value-5678');
  });

  it('keeps credentials per tenant', async () => {
    const created = await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'mine', value: 'tenant-a-only-value' } });
    expect((await t.request('GET', `/api/v1/sdk/credentials/${created.body.id}`, { key: t.tenantB.adminKey })).status).toBe(404);
    expect((await t.request('POST', `/api/v1/sdk/credentials/${created.body.id}/rotate`, { key: t.tenantB.adminKey, body: { value: 'x' } })).status).toBe(404);
    expect((await t.request('DELETE', `/api/v1/sdk/credentials/${created.body.id}`, { key: t.tenantB.adminKey })).status).toBe(404);
    await expect(t.services.credentials.resolve(t.tenantB.id, ['mine'], { agentId: '0', executionId: '0' })).rejects.toMatchObject({ code: 'CREDENTIAL_UNKNOWN' });
  });
});

/** Every ledger record of tenant A, as stored. */
async function dumpLedger(t: TestServer): Promise<unknown[]> {
  await t.services.ledger.flush();
  return t.store.ledger.records(t.tenantA.id, {}, 100_000);
}
