// A credential revoked while a request's body is still on its way does not complete that request (session 13 red
// team: a leaked admin key kept half-sent requests open and, 50 s after its revocation, finished one that minted it a
// new admin key; an approver's dashboard session approved a held call after its key was revoked).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInDashboard, startTestServer, type TestServer } from '../../../test-utils/index.js';

interface HalfSent {
  /** Sends the body and resolves with the status and JSON body of the answer. */
  finish(): Promise<{ status: number; body: any }>;
}

/** Opens a request and sends its headers only (the body is sent by `finish`). */
async function halfSend(url: string, method: string, path: string, headers: Record<string, string>, body: unknown): Promise<HalfSent> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const payload = Buffer.from(JSON.stringify(body));
  const head = Object.entries({ host: 'x', 'content-type': 'application/json', 'content-length': String(payload.length), ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.write(`${method} ${path} HTTP/1.1\r\n${head}connection: close\r\n\r\n`);
  // Let the server run its onRequest hooks (authentication) on the headers before anything else happens.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    finish: () => new Promise((resolve, reject) => {
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('utf8')));
      socket.once('error', reject);
      socket.once('close', () => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
        const text = received.slice(received.indexOf('\r\n\r\n') + 4);
        resolve({ status, body: JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) });
      });
      socket.write(payload);
    }),
  };
}

describe('a credential revoked while a request is being received', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('an admin key revoked before its half-sent request finishes cannot mint a key with it (Fastify path)', async () => {
    const leaked = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['admin'], name: 'leaked' });
    const pending = await halfSend(t.url, 'POST', '/api/v1/keys', { authorization: `Bearer ${leaked.token}` }, { scopes: ['admin'], name: 'persistence' });
    expect((await t.request('POST', `/api/v1/keys/${leaked.record.id}/revoke`, { key: t.tenantA.adminKey })).status).toBe(200);
    const answer = await pending.finish();
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: 'UNAUTHENTICATED', message: 'API key revoked while the request was being received' });
    const keys = await t.request('GET', '/api/v1/keys', { key: t.tenantA.adminKey });
    expect(keys.body.keys.map((key: { name: string | null }) => key.name)).not.toContain('persistence');
  });

  it('an enforce key revoked before its half-sent decision finishes gets 401, not a decision (direct path)', async () => {
    const agent = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'], name: 'agent' });
    const call = { agentId: 'bot', sessionId: 'revoked-mid-request', toolName: 'read', arguments: {}, enforcement: 'block', approvedScope: ['read'] };
    // The same request completes while the key stands (so the refusal below is the revocation's doing).
    const before = await halfSend(t.url, 'POST', '/v1/enforce', { authorization: `Bearer ${agent.token}` }, call);
    expect((await before.finish()).body.decision).toBe('ALLOW');
    const pending = await halfSend(t.url, 'POST', '/v1/enforce', { authorization: `Bearer ${agent.token}` }, call);
    await t.services.keys.revoke(t.tenantA.id, agent.record.id);
    const answer = await pending.finish();
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('UNAUTHENTICATED');
    expect(answer.body.decision).toBeUndefined();
  });

  it('a dashboard session whose key is revoked cannot finish approving a held call', async () => {
    const approverKey = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'], name: 'approver' });
    const session = await signInDashboard(t.url, approverKey.token);
    const held = await t.request('POST', '/v1/enforce', {
      key: t.tenantA.adminKey,
      body: { agentId: 'bank-bot', sessionId: 'held', toolName: 'transfer', arguments: { amount: 5 }, enforcement: 'step_up', approvedScope: ['other'] },
    });
    expect(held.body.decision).toBe('STEP_UP');
    const pending = await halfSend(t.url, 'POST', `/api/v1/approvals/${held.body.holdToken}/approve`, { cookie: session.cookie, 'x-csrf-token': session.csrf }, { approver: 'mallory' });
    await t.services.keys.revoke(t.tenantA.id, approverKey.record.id);
    const answer = await pending.finish();
    expect(answer.status).toBe(401);
    const hold = await t.request('GET', `/v1/enforce/hold/${held.body.holdToken}`, { key: t.tenantA.adminKey });
    expect(hold.body.status).toBe('pending');
  });
});
