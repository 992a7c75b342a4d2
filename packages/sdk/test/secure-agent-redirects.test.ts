/**
 * Regression: SecureAgent's requests followed redirects, so a 307 from anything in front of the server re-sent the
 * request (a plaintext credential, the API key) to another origin and trusted its answer. The server here is real;
 * the proxy in front of it answers the redirect, and a second local server plays the other origin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDKError, SecureAgent } from '../src/index.js';
import { startFakeEnforcer, type FakeEnforcer } from './support/fake-enforcer.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
let otherOrigin: FakeEnforcer;
let proxy: FaultProxy;
let key: string;
beforeAll(async () => {
  server = await startGovernedServer();
  key = (await server.t.services.keys.create({ tenantId: server.tenant.id, scopes: ['agents', 'audit:read'], name: 'redirect tests' })).token;
  otherOrigin = await startFakeEnforcer();
  // What the other origin answers when it is reached: a credential record, as the real route would.
  otherOrigin.answer(() => ({ status: 201, json: { id: 1, name: 'stripe', revoked: false } }));
  proxy = await startFaultProxy({
    target: server.url,
    fault: (_method, path) => (path.startsWith('/api/v1/sdk/credentials') || path === '/api/sdk/audit/stream' ? { redirectTo: otherOrigin.url } : undefined),
  });
});
afterAll(async () => {
  await proxy?.close();
  await otherOrigin?.close();
  await server?.close();
});

describe('SecureAgent never follows a redirect', () => {
  it('a 307 on storeCredential() is an error, and the other origin never receives the credential', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: proxy.url, name: 'redirected' });
    const refusal = await agent.storeCredential({ name: 'stripe', value: 'sk_live_SUPERSECRET_credential_value' }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SDKError);
    expect(refusal).toMatchObject({ code: 'HTTP_ERROR', status: 307 });
    expect((refusal as SDKError).message).toContain('redirect');
    expect(otherOrigin.seen).toEqual([]);
  });

  it('requests that are not redirected still reach the real server through the same proxy', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: proxy.url, name: 'not-redirected' });
    await expect(agent.getAuditLog({ limit: 1 })).resolves.toBeDefined();
  });

  it('a 307 on the audit stream is reported as an error, and the other origin is never asked', async () => {
    const agent = new SecureAgent({ apiKey: key, baseUrl: proxy.url, name: 'streamed' });
    const errors: Error[] = [];
    const stream = agent.streamAuditLog({ reconnect: false, onError: (error) => errors.push(error) }, () => undefined);
    await stream.closed;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 307 });
    expect(errors[0]?.message).toContain('redirect');
    expect(otherOrigin.seen).toEqual([]);
  });
});
