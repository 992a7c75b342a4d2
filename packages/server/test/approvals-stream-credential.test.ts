import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

// The approvals stream lives for as long as the client keeps it open: a key revoked after it was opened must not
// go on receiving the tenant's approvals (who asks, for which tool, with which arguments).
describe('the approvals stream stops serving a credential that no longer stands', () => {
  const policy = 'name: held\nagents: { "*": { approvedScope: ["*"] } }\nrules:\n  - { id: ask, match: { tools: [wire] }, effect: STEP_UP, reason: needs a person }\n';
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'held', source: policy, activate: true } })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function open(key: string) {
    const response = await fetch(`${t.url}/api/v1/approvals/stream`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let done = false;
    const readUntil = async (predicate: () => boolean) => {
      while (!predicate() && !done) {
        const chunk = await reader.read();
        done = chunk.done;
        if (chunk.value) text += decoder.decode(chunk.value);
      }
    };
    return { readUntil, text: () => text, ended: () => done, close: () => reader.cancel() };
  }

  it('a revoked key gets event: error and the end of the stream, not the next approval', async () => {
    const { body } = await t.request('POST', '/api/v1/keys', { key: t.tenantA.adminKey, body: { scopes: ['approvals'], name: 'on-call' } });
    const stream = await open(body.secret);
    await stream.readUntil(() => stream.text().includes('event: connected'));

    const first = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'pay-bot', sessionId: 's1', toolName: 'wire', arguments: { to: 'first' } } });
    await stream.readUntil(() => stream.text().includes(first.body.holdToken));

    expect((await t.request('POST', `/api/v1/keys/${body.key.id}/revoke`, { key: t.tenantA.adminKey })).status).toBe(200);
    const second = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'pay-bot', sessionId: 's2', toolName: 'wire', arguments: { to: 'second' } } });
    expect(second.body.decision).toBe('STEP_UP');
    await stream.readUntil(() => stream.ended());
    expect(stream.text()).toContain('event: error');
    expect(stream.text()).toContain('"code":"UNAUTHENTICATED"');
    expect(stream.text()).toContain('API key revoked');
    expect(stream.text()).not.toContain(second.body.holdToken);
  });

  it('a key that still stands keeps receiving events', async () => {
    const { body } = await t.request('POST', '/api/v1/keys', { key: t.tenantA.adminKey, body: { scopes: ['approvals'], name: 'steady' } });
    const stream = await open(body.secret);
    await stream.readUntil(() => stream.text().includes('event: connected'));
    const held = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'pay-bot', sessionId: 's3', toolName: 'wire', arguments: { to: 'third' } } });
    await stream.readUntil(() => stream.text().includes(held.body.holdToken));
    expect(stream.text()).not.toContain('event: error');
    expect(stream.ended()).toBe(false);
    await stream.close();
  });
});
