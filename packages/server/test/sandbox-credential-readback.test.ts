// A credential sent upstream in one run and read back in a later one. The upstream keeps what it was sent (a paste
// service, a profile field, an inbox); the later run's request references no credential. Before, responses were
// scrubbed only of the values substituted in the same run, so the second run handed the secret to the guest, which
// could return it as its output. Now every response is scrubbed of all values of the agent's granted credentials,
// including values replaced by rotation.
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { TLS_CA_FILE, startTlsUpstream } from './fixtures/tls-upstream.js';

const SECRET = 'sk-live-readback-1a2b3c4d5e';
const ROTATED = 'sk-live-readback-NEW-9z8y7x';

/** POST /paste keeps the Authorization header; GET /paste answers what was kept, in the body and a header. */
function startPasteServer(): Promise<Server> {
  let kept = '';
  return startTlsUpstream((request, response) => {
    if (request.method === 'POST') kept = String(request.headers.authorization ?? '');
    response.writeHead(200, { 'content-type': 'application/json', 'x-kept': kept });
    response.end(JSON.stringify({ kept, nested: { note: `token was ${kept.replace('Bearer ', '')}` }, encoded: { base64: Buffer.from(kept).toString('base64'), hex: Buffer.from(kept).toString('hex') } }));
  });
}

describe('credentials: a value stored upstream in one run is scrubbed when read back in a later run', () => {
  let t: TestServer;
  let upstream: Server;
  let key: string;
  let url: string;
  let agentId: number;

  const run = async (input: Record<string, unknown>) => {
    const answer = await t.request('POST', `/api/v1/sdk/agents/${agentId}/execute`, { key, body: { input } });
    expect(answer.body.status).toBe('completed');
    return answer.body;
  };

  beforeAll(async () => {
    upstream = await startPasteServer();
    url = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}/paste`;
    t = await startTestServer({ config: { sandboxEgressAllow: ['127.0.0.1/32'], sandboxEgressCaFile: TLS_CA_FILE } });
    key = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    expect((await t.request('POST', '/api/v1/sdk/credentials', { key, body: { name: 'paste_token', value: SECRET } })).status).toBe(201);
    const entry = `
      if (input.store) await thetazero.http_request(input.url, 'POST', { Authorization: 'Bearer {{credential:paste_token}}' }, '{}');
      return await thetazero.http_request(input.url, 'GET', {});`;
    const agent = await t.request('POST', '/api/v1/sdk/agents', {
      key, body: { name: 'paster', entry_code: entry, config: { sandbox_template: 'STANDARD', permissions: ['network:outbound'], credentials: ['paste_token'] } },
    });
    agentId = agent.body.agent.id;
  });

  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('scrubs the read-back value from a run that references no credential, everywhere the guest could see it', async () => {
    await run({ url, store: true });
    const later = await run({ url, store: false });
    expect(later.output.body.kept).toBe('Bearer [credential:paste_token]');
    expect(later.output.body.nested.note).toBe('token was [credential:paste_token]');
    expect(later.output.headers['x-kept']).toBe('Bearer [credential:paste_token]');
    // Encoded copies too: what is left of the base64 decodes to at most a few bytes at the secret's ends.
    expect(later.output.body.encoded.hex).toBe(`${Buffer.from('Bearer ').toString('hex')}[credential:paste_token]`);
    expect(later.output.body.encoded.base64).toContain('[credential:paste_token]');
    const leftover = String(later.output.body.encoded.base64).split('[credential:paste_token]').map((part) => Buffer.from(part, 'base64').toString('latin1')).join('');
    expect(leftover).not.toMatch(/readback|1a2b3c4d/);
    const stored = JSON.stringify(await t.store.sandboxExecutions.get(t.tenantA.id, later.execution_id));
    expect(JSON.stringify(later) + stored).not.toContain('1a2b3c4d5e');
  });

  it('also scrubs the value a rotation replaced, which the upstream may still hold', async () => {
    await run({ url, store: true }); // upstream keeps SECRET
    const listed = await t.request('GET', '/api/v1/sdk/credentials', { key });
    const current = listed.body.credentials.find((c: { name: string; status: string }) => c.name === 'paste_token' && c.status === 'active');
    expect((await t.request('POST', `/api/v1/sdk/credentials/${current.id}/rotate`, { key, body: { value: ROTATED } })).status).toBe(201);
    const later = await run({ url, store: false });
    expect(later.output.body.kept).toBe('Bearer [credential:paste_token]');
    expect(JSON.stringify(later)).not.toContain('1a2b3c4d5e');
  });

  it('reading back records no credential use', async () => {
    const uses = async () => {
      await t.services.ledger.flush();
      return (await t.store.ledger.records(t.tenantA.id, {}, 100_000)).filter((record) => record.type === 'credential.used').length;
    };
    const before = await uses();
    await run({ url, store: false });
    expect(await uses()).toBe(before);
  });
});
