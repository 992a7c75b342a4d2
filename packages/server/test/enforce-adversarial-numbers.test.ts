// A JSON number beyond the double range (1e999) parses as Infinity, which canonical JSON writes as null: `1e999`,
// `-1e999` and `null` had one action hash, so one approval released all three calls (the approver saw `null`).
// Such numbers are refused at the edge, on the direct path and through Fastify alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';

describe('numbers beyond the double range', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  const raw = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${t.tenantA.adminKey}`, 'content-type': 'application/json', ...headers }, body });

  it.each([
    ['1e999', 'direct path'], ['-1e999', 'direct path'], ['1e999', 'Fastify (charset parameter)'],
  ])('refuses %s in /v1/enforce arguments (%s) with 400 naming the field', async (value, path) => {
    const body = `{"agentId":"bank-bot","toolName":"transfer","arguments":{"to":"acct-1","amount":${value}},"enforcement":"step_up","approvedScope":["other"]}`;
    const res = await raw('/v1/enforce', body, path.startsWith('Fastify') ? { 'content-type': 'application/json; charset=utf-8; x=1' } : {});
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: { code: string; message: string } };
    expect(answer.error.code).toBe('VALIDATION_FAILED');
    expect(answer.error.message).toContain('body/arguments/amount');
  });

  it('cannot make one approval release a call with another amount', async () => {
    const hold = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bank-bot', toolName: 'transfer', arguments: { to: 'acct-1', amount: null }, enforcement: 'step_up', approvedScope: ['other'] } });
    expect(hold.body.decision).toBe('STEP_UP');
    expect((await t.request('POST', `/api/v1/approvals/${hold.body.holdToken}/approve`, { key: t.tenantA.adminKey, body: { approver: 'alice' } })).status).toBe(200);
    const infinite = await raw('/v1/enforce', `{"agentId":"bank-bot","toolName":"transfer","arguments":{"to":"acct-1","amount":1e999},"enforcement":"step_up","approvedScope":["other"],"holdToken":"${hold.body.holdToken}"}`);
    expect(infinite.status).toBe(400);
  });

  it('refuses them in outputs, events and every other body', async () => {
    expect((await raw('/v1/enforce/output', '{"agentId":"a","sessionId":"s","toolName":"t","output":{"n":-1e400}}')).status).toBe(400);
    expect((await raw('/v1/events/batch', '{"events":[{"eventId":"e1","eventType":"TOOL_CALL_PRE","sourceType":"SDK","agentId":"a","userId":"u","sessionId":"s","toolName":"t","callId":"c","timestamp":"2026-01-01T00:00:00Z","redaction":"full","arguments":{"x":1e309}}]}')).status).toBe(400);
    expect((await raw('/api/v1/safety/scan', '{"text":"hi","direction":"input","n":1e999}')).status).toBe(400);
    // Large but finite numbers are fine.
    const finite = await raw('/v1/enforce', '{"agentId":"bank-bot","toolName":"transfer","arguments":{"amount":1e300},"enforcement":"observe","approvedScope":["transfer"]}');
    expect(finite.status).toBe(200);
  });
});
