// API keys restricted to named agents: before them, any `enforce` key could name any agent of its tenant (for
// example one whose policy entry is lenient). A restricted key names only its own agents, on every route that
// takes an agent id from the caller, on the Fastify path, on the cached-key direct path, and after a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, loadConfig, startTollgate } from '@tollgate/server';
import { MAX_KEY_AGENT_IDS } from '../src/services/keys/index.js';
import { rawRequest, startTestServer, type TestServer } from '../../../test-utils/index.js';

// strict-bot may only search; lenient-bot may also delete the database.
const POLICY = `name: bound
agents:
  strict-bot:
    approvedScope: [search_kb]
  lenient-bot:
    approvedScope: [search_kb, delete_database]
`;

/** Ids a key restricted to `strict-bot` must refuse: another agent and spellings that only look like its own. */
const FORBIDDEN_IDS = [
  'lenient-bot',
  'Strict-Bot', // case
  'STRICT-BOT',
  'strict-bot ', // trailing space
  ' strict-bot',
  'strict-bot\t',
  'strict-bot\u200b', // zero-width space
  'strict\u2010bot', // Unicode hyphen
  '\u017Ftrict-bot', // long s (NFKC folds it to s)
  '\uFF53trict-bot', // fullwidth s
  'str\u0456ct-bot', // Cyrillic i
  'strict-bo',
  'strict-bot-2',
];

async function directServed(t: TestServer): Promise<number> {
  const metrics = await t.request('GET', '/metrics');
  const match = /^tollgate_http_direct_requests_total (\d+)$/m.exec(String(metrics.body));
  if (!match) throw new Error('tollgate_http_direct_requests_total missing from /metrics');
  return Number(match[1]);
}

function event(agentId: string, eventId: string, sessionId: string) {
  return {
    eventId, eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId, userId: 'u1', sessionId, toolName: 'search_kb',
    callId: `call-${eventId}`, timestamp: '2026-06-01T00:00:00.000Z', redaction: 'full',
  };
}

describe.each([
  { path: 'direct path on', httpDirectRoutes: true },
  { path: 'Fastify only', httpDirectRoutes: false },
])('API keys restricted to agents ($path)', ({ httpDirectRoutes }) => {
  let t: TestServer;
  let admin: string;
  let bound: string;
  let boundId: string;
  let unbound: string;

  beforeAll(async () => {
    t = await startTestServer({ config: { httpDirectRoutes } });
    admin = t.tenantA.adminKey;
    const policy = await t.request('POST', '/api/v1/policies', { key: admin, body: { name: 'bound', source: POLICY, activate: true } });
    expect(policy.status).toBe(201);
    const created = await t.request('POST', '/api/v1/keys', { key: admin, body: { scopes: ['enforce', 'events:write'], name: 'strict', agentIds: ['strict-bot'] } });
    expect(created.status).toBe(201);
    bound = created.body.secret;
    boundId = created.body.key.id;
    unbound = (await t.request('POST', '/api/v1/keys', { key: admin, body: { scopes: ['enforce', 'events:write'] } })).body.secret;
  });

  afterAll(async () => {
    await t?.close();
  });

  const enforce = (key: string, agentId: string, toolName = 'delete_database') =>
    t.request('POST', '/v1/enforce', { key, body: { agentId, toolName, arguments: {} } });

  it('the admin API stores the restriction and create, get, list and whoami show it', async () => {
    const got = await t.request('GET', `/api/v1/keys/${boundId}`, { key: admin });
    expect(got.body.key).toMatchObject({ scopes: ['enforce', 'events:write'], agentIds: ['strict-bot'] });
    const listed = await t.request('GET', '/api/v1/keys', { key: admin });
    const byId = new Map<string, unknown>(listed.body.keys.map((key: { id: string; agentIds: unknown }) => [key.id, key.agentIds]));
    expect(byId.get(boundId)).toEqual(['strict-bot']);
    expect([...byId.values()].filter((ids) => ids === null).length).toBeGreaterThan(0);
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: bound })).body.agentIds).toEqual(['strict-bot']);
    expect((await t.request('GET', '/api/v1/auth/whoami', { key: unbound })).body).not.toHaveProperty('agentIds');
  });

  it('enforces for its own agent (the policy decides as usual)', async () => {
    expect((await enforce(bound, 'strict-bot', 'search_kb')).body.decision).toBe('ALLOW');
    expect((await enforce(bound, 'strict-bot', 'delete_database')).body.decision).toBe('BLOCK');
  });

  it.each(FORBIDDEN_IDS)('refuses /v1/enforce for %j with 403 KEY_AGENT_FORBIDDEN, twice (the second on the cached key)', async (agentId) => {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await enforce(bound, agentId);
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('KEY_AGENT_FORBIDDEN');
      expect(response.body).not.toHaveProperty('decision');
    }
  });

  it('refuses an id with a NUL character before it reaches the check (400, no decision)', async () => {
    const response = await enforce(bound, 'strict-bot\u0000');
    expect(response.status).toBe(400);
    expect(response.body).not.toHaveProperty('decision');
  });

  it('serves the refusal on the direct path when it is on (the key is cached), and on Fastify when it is off', async () => {
    await enforce(bound, 'strict-bot', 'search_kb'); // caches the key
    const before = await directServed(t);
    const response = await rawRequest(`${t.url}/v1/enforce`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bound}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'lenient-bot', toolName: 'delete_database' }),
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text).error.code).toBe('KEY_AGENT_FORBIDDEN');
    expect((await directServed(t)) - before).toBe(httpDirectRoutes ? 1 : 0);
  });

  it('records no decision for a refused call', async () => {
    await enforce(bound, 'lenient-bot');
    const audit = await t.request('GET', '/api/v1/audit/records?limit=500', { key: admin });
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toContain('strict-bot');
    expect(JSON.stringify(audit.body)).not.toContain('lenient-bot');
  });

  it('refuses /v1/enforce/output for another agent and checks its own', async () => {
    const body = (agentId: string) => ({ agentId, toolName: 'search_kb', output: { text: 'ok' } });
    const own = await t.request('POST', '/v1/enforce/output', { key: bound, body: body('strict-bot') });
    expect(own.status).toBe(200);
    for (const agentId of ['lenient-bot', 'Strict-Bot', 'strict-bot ']) {
      const other = await t.request('POST', '/v1/enforce/output', { key: bound, body: body(agentId) });
      expect(other.status).toBe(403);
      expect(other.body.error.code).toBe('KEY_AGENT_FORBIDDEN');
    }
  });

  it('refuses a whole event batch when one event names another agent (nothing stored), accepts its own', async () => {
    const session = `s-${httpDirectRoutes}`;
    const mixed = [event('strict-bot', `e1-${session}`, session), event('lenient-bot', `e2-${session}`, session)];
    const refused = await t.request('POST', '/v1/events/batch', { key: bound, body: { events: mixed } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('KEY_AGENT_FORBIDDEN');
    const stored = async () => (await t.request('GET', `/api/v1/events?sessionId=${session}`, { key: admin })).body.events.length;
    expect(await stored()).toBe(0);
    const accepted = await t.request('POST', '/v1/events/batch', { key: bound, body: { events: [mixed[0]] } });
    expect(accepted.status).toBe(202);
    expect(await stored()).toBe(1);
    const unrestricted = await t.request('POST', '/v1/events/batch', { key: unbound, body: { events: mixed } });
    expect(unrestricted.status).toBe(202);
    expect(await stored()).toBe(2);
  });

  it('polls only the holds of its own agents; another agent\'s hold answers 404 like an unknown token', async () => {
    const stepUp = (key: string, agentId: string) =>
      t.request('POST', '/v1/enforce', { key, body: { agentId, toolName: 'send_email', arguments: {}, enforcement: 'step_up' } });
    const others = (await stepUp(unbound, 'lenient-bot')).body;
    const own = (await stepUp(bound, 'strict-bot')).body;
    expect([others.decision, own.decision]).toEqual(['STEP_UP', 'STEP_UP']);
    const poll = (key: string, token: string) => t.request('GET', `/v1/enforce/hold/${token}`, { key });
    for (let round = 0; round < 2; round += 1) { // the second time with the key cached
      const refused = await poll(bound, others.holdToken as string);
      expect(refused.status).toBe(404);
      expect(refused.body.error.code).toBe((await poll(bound, 'hold_no_such_token')).body.error.code);
      expect((await poll(bound, own.holdToken as string)).body.status).toBe('pending');
    }
    expect((await poll(unbound, others.holdToken as string)).body.status).toBe('pending');
  });

  it('an unrestricted key names any agent as before', async () => {
    expect((await enforce(unbound, 'lenient-bot')).body.decision).toBe('ALLOW');
    expect((await enforce(unbound, 'strict-bot')).body.decision).toBe('BLOCK');
  });

  it.each([
    ['an empty list', { scopes: ['enforce'], agentIds: [] }],
    ['an empty id', { scopes: ['enforce'], agentIds: [''] }],
    ['a non-string id', { scopes: ['enforce'], agentIds: [7] }],
    ['too many ids', { scopes: ['enforce'], agentIds: Array.from({ length: MAX_KEY_AGENT_IDS + 1 }, (_, i) => `a${i}`) }],
    ['a too long id', { scopes: ['enforce'], agentIds: ['a'.repeat(257)] }],
    ['a space-padded id', { scopes: ['enforce'], agentIds: ['strict-bot '] }],
    ['a glob', { scopes: ['enforce'], agentIds: ['strict-*'] }],
    ['a control character', { scopes: ['enforce'], agentIds: ['a\u0007'] }],
    ['scope policies', { scopes: ['enforce', 'policies'], agentIds: ['strict-bot'] }],
    ['scope admin', { scopes: ['admin'], agentIds: ['strict-bot'] }],
    ['scope audit:read', { scopes: ['audit:read'], agentIds: ['strict-bot'] }],
  ])('refuses to create a key with %s (400 VALIDATION_FAILED)', async (_, body) => {
    const response = await t.request('POST', '/api/v1/keys', { key: admin, body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('the key service (the CLI’s path) applies the same limits', async () => {
    const create = (agentIds: string[]) => t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'], agentIds });
    for (const agentIds of [[], [''], ['a '], ['*'], Array.from({ length: MAX_KEY_AGENT_IDS + 1 }, (_, i) => `a${i}`)]) {
      await expect(create(agentIds)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const { record } = await create(['a', 'b', 'a']);
    expect(record.agentIds).toEqual(['a', 'b']);
  });
});

describe('an agent restriction survives a restart (SQLite file)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tollgate-key-agents-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses another agent after the server restarted on the same file', async () => {
    const adminKey = generateApiKey().token;
    const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey, logLevel: 'silent' });
    const first = await startTollgate({ config });
    const { token } = await first.server.services.keys.create({ tenantId: 'default', scopes: ['enforce'], agentIds: ['strict-bot'] });
    await first.close();
    const second = await startTollgate({ config });
    try {
      const send = (agentId: string) => rawRequest(`${second.url}/v1/enforce`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agentId, toolName: 'search_kb' }),
      });
      expect((await send('strict-bot')).status).toBe(200);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const refused = await send('other-bot');
        expect(refused.status).toBe(403);
        expect(JSON.parse(refused.text).error.code).toBe('KEY_AGENT_FORBIDDEN');
      }
    } finally {
      await second.close();
    }
  });
});
