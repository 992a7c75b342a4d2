// Regression: PostgreSQL text cannot hold a NUL (U+0000) and stores an unpaired surrogate as U+FFFD. A NUL in an
// agent name, key id, policy id … was a 500 on PostgreSQL; in /v1/enforce it failed the whole batched decision write,
// so other tenants' concurrent calls were refused too; an unpaired surrogate in tool arguments lost the call's ledger
// record (canonical JSON refuses it) on both dialects. Also: a policy version beyond 32 bits was a 500 on PostgreSQL.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, rawRequest, startTestServer, type TestServer } from '../../../test-utils/index.js';

const examplePolicy = readFileSync(fileURLToPath(new URL('../../../examples/policies/support-agent.yaml', import.meta.url)), 'utf8');
const pgUrl = postgresTestUrl('postgres adversarial: text and numbers');
const dialects = [['sqlite', undefined], ...(pgUrl ? [['postgres', pgUrl]] : [])] as const;

describe.each(dialects)('unstorable text and out-of-range numbers on %s', (_dialect, postgresUrl) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ postgresUrl });
  });
  afterAll(async () => {
    await t?.close();
  });

  const refusedAsValidation = (res: { status: number; body: any }) => {
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  };

  it.each([
    ['a NUL in an agent name', { agentId: 'bot\u0000', toolName: 'search' }],
    ['a NUL in a tool name', { agentId: 'bot', toolName: 'se\u0000arch' }],
    ['a NUL in a session id', { agentId: 'bot', toolName: 'search', sessionId: 's\u0000' }],
    ['a NUL in a key of the arguments', { agentId: 'bot', toolName: 'search', arguments: { 'q\u0000': 1 } }],
    ['an unpaired surrogate in the arguments', { agentId: 'bot', toolName: 'search', arguments: { q: 'x\ud800' } }],
    ['an unpaired low surrogate in an agent name', { agentId: '\udc00bot', toolName: 'search' }],
  ])('/v1/enforce refuses %s with 400 VALIDATION_FAILED', async (_name, body) => {
    refusedAsValidation(await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body }));
  });

  it('a NUL among concurrent /v1/enforce calls does not fail the other callers (batched writes)', async () => {
    const legit = Array.from({ length: 30 }, (_, i) => t.request('POST', '/v1/enforce', { key: t.tenantB.adminKey, body: { agentId: `bot-${i}`, toolName: 'search' } }));
    const poisoned = Array.from({ length: 5 }, () => t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot\u0000', toolName: 'search' } }));
    const [ok, bad] = await Promise.all([Promise.all(legit), Promise.all(poisoned)]);
    expect(ok.map((res) => res.status)).toEqual(ok.map(() => 200));
    for (const res of bad) refusedAsValidation(res);
  });

  it('well-formed text outside the BMP, newlines and other controls still pass', async () => {
    const res = await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot-😀', toolName: 'search', arguments: { q: 'line\none\ttab 𝕏' } } });
    expect(res.status).toBe(200);
  });

  it.each([
    ['GET', '/api/v1/keys/a%00b'],
    ['POST', '/api/v1/keys/a%00b/revoke'],
    ['GET', '/api/v1/policies/a%00b'],
    ['GET', '/v1/enforce/hold/hold_%00'],
    ['POST', '/api/sdk/agents/a%00b/kill'],
    ['GET', '/api/v1/dashboard/violations/a%00b/ledger'],
    ['GET', '/api/v1/sdk/credentials/a%00b'],
  ])('%s %s (a NUL in a path parameter) is a 4xx with the envelope, not a 500', async (method, path) => {
    const res = await rawRequest(`${t.url}${path}`, { method, headers: { authorization: `Bearer ${t.tenantA.adminKey}`, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('VALIDATION_FAILED');
  });

  it('a NUL in a new agent name or key name is refused, not stored', async () => {
    refusedAsValidation(await t.request('POST', '/api/v1/sdk/agents', { key: t.tenantA.adminKey, body: { name: 'agent\u0000x' } }));
    refusedAsValidation(await t.request('POST', '/api/v1/keys', { key: t.tenantA.adminKey, body: { scopes: ['enforce'], name: 'ci\u0000' } }));
  });

  it.each(['99999999999999999999', '9999999999999', '2147483648'])('policy version %s that cannot exist is 404, not a 500', async (version) => {
    const created = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: `p-${version}`, source: examplePolicy } });
    const id: string = created.body.id ?? created.body.policy?.id;
    expect(typeof id).toBe('string');
    const version1 = await t.request('GET', `/api/v1/policies/${id}/versions/${version}`, { key: t.tenantA.adminKey });
    expect(version1.status).toBe(404);
    const diff = await t.request('GET', `/api/v1/policies/${id}/diff?from=1&to=${version}`, { key: t.tenantA.adminKey });
    expect(diff.status).toBeGreaterThanOrEqual(400);
    expect(diff.status).toBeLessThan(500);
  });
});
