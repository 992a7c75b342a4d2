import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/http/logger.js';
import { recognisedSecret, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Adversarial review of secret masking in stored forms. Each case is a shape that used to reach storage, the
// ledger or the logs with the secret in clear: a credential named by its key (`{ password: … }`), a secret used as
// an object key, and a secret that JSON escaping glued to the text before it (`"…\nAKIA…"`).

const UPPER_B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** Secrets assembled at run time (no secret-looking literal is committed). */
const secrets = {
  aws: recognisedSecret(() => 'AKIA' + rand(UPPER_B32, 16)),
  stripe: recognisedSecret(() => ['sk', 'live', rand(ALNUM, 24)].join('_')),
  github: recognisedSecret(() => 'ghp_' + rand(ALNUM, 36)),
  // A high-entropy value only the keyword rule recognises, from the name it is assigned to.
  password: recognisedSecret(() => rand(ALNUM, 8) + '7' + rand(ALNUM, 11), (secret) => `password=${secret}`),
};
/** A private key block as an array of lines, as a tool argument may carry it. */
const pemLines = ['-----BEGIN OPENSSH PRIVATE KEY-----', rand(ALNUM, 64), rand(ALNUM, 48), '-----END OPENSSH PRIVATE KEY-----'];
const fragments = Object.values(secrets).flatMap((s) => [s, s.slice(4, 14), s.slice(-10)]);

const expectNoSecret = (where: string, value: unknown): void => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  for (const fragment of fragments) expect(text.includes(fragment), `${where} holds a piece of a secret: ${fragment.slice(0, 6)}…`).toBe(false);
};

const examplePolicy = readFileSync(fileURLToPath(new URL('../../../examples/policies/support-agent.yaml', import.meta.url)), 'utf8');

describe('adversarial secret masking in stored forms', () => {
  let t: TestServer;
  let admin: string;
  let agentsKey: string;
  let auditKey: string;

  beforeAll(async () => {
    t = await startTestServer({ config: { executionsPerHour: 0 } });
    admin = t.tenantA.adminKey;
    agentsKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['agents'] })).token;
    auditKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] })).token;
    const created = await t.request('POST', '/api/v1/policies', { key: admin, body: { name: 'support', source: examplePolicy, activate: true } });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('enforce: a credential named by its key and a secret used as a key are masked in the decision, the hold and the ledger', async () => {
    const args = {
      amount: 900,
      login: { username: 'bob', password: secrets.password },
      grants: { [secrets.aws]: 'read' },
      note: JSON.stringify({ out: `first line\n${secrets.stripe}` }),
      deployKey: pemLines,
    };
    const held = await t.request('POST', '/v1/enforce', { key: admin, body: { agentId: 'support-bot', sessionId: 'adv-1', toolName: 'issue_refund', arguments: args } });
    expect(held.body.decision).toBe('STEP_UP');
    const stored = await t.store.decisions.get(t.tenantA.id, held.body.decisionId);
    expectNoSecret('decision record', stored);
    for (const line of pemLines.slice(1, 3)) expect(JSON.stringify(stored)).not.toContain(line);
    expect(stored?.arguments).toMatchObject({ amount: 900, login: { username: 'bob', password: '[REDACTED:generic-api-key]' }, grants: { '[REDACTED:aws-access-token]': 'read' } });
    expectNoSecret('approval queue', (await t.request('GET', '/api/v1/approvals?status=pending', { key: admin })).body);
    const approved = await t.request('POST', `/api/v1/approvals/${held.body.holdToken}/approve`, { key: admin, body: { approver: 'carol' } });
    expect(approved.status).toBe(200);
    // The approval still binds to the exact raw call.
    const released = await t.request('POST', '/v1/enforce', { key: admin, body: { agentId: 'support-bot', sessionId: 'adv-1', toolName: 'issue_refund', arguments: args, holdToken: held.body.holdToken } });
    expect(released.body.decision).toBe('ALLOW');
    expectNoSecret('released decision', await t.store.decisions.get(t.tenantA.id, released.body.decisionId));
    expectNoSecret('audit records', (await t.request('GET', '/api/v1/audit/records?limit=1000', { key: auditKey })).body);
  });

  it('events: TOOL_CALL_PRE/POST arguments and results keep no credential named by its key, no secret key and no escaped secret', async () => {
    const writeKey = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['events:write'] })).token;
    const base = { sourceType: 'SDK', agentId: 'agent-1', userId: 'alice', sessionId: 'adv-events', toolName: 'http_get', timestamp: new Date().toISOString(), redaction: 'full' };
    const events = [
      { ...base, eventId: crypto.randomUUID(), callId: 'c1', eventType: 'TOOL_CALL_PRE', arguments: { headers: { 'x-api-key': secrets.password }, cache: { [secrets.github]: 1 } } },
      { ...base, eventId: crypto.randomUUID(), callId: 'c1', eventType: 'TOOL_CALL_POST', result: { body: JSON.stringify({ log: `ok\n${secrets.aws}` }) } },
    ];
    const posted = await t.request('POST', '/v1/events/batch', { key: writeKey, body: { events } });
    expect(posted.status).toBeLessThan(300);
    const listed = await t.request('GET', '/api/v1/events?sessionId=adv-events', { key: auditKey });
    expect(listed.body.events).toHaveLength(2);
    expectNoSecret('stored events', listed.body);
  });

  it('sandbox: a secret after a line break in the output, the input and a host call is masked in the row, the response and the ledger', async () => {
    const reversed = Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v.split('').reverse().join('')]));
    const code = [
      `const S = {}; for (const [k, v] of Object.entries(input.reversed)) S[k] = v.split('').reverse().join('');`,
      `try { await tollgate.read_context('cache\\n' + S.stripe); } catch (e) {}`,
      `return { report: 'line one\\n' + S.aws, login: { password: S.password } };`,
    ].join('\n');
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key: agentsKey, body: { name: 'adv-escapes', entry_code: code, config: { sandbox_template: 'STANDARD', permissions: ['data:read'] } } });
    expect(agent.status).toBe(201);
    const input = { reversed, note: `tab\t${secrets.stripe}` };
    const run = await t.request('POST', `/api/v1/sdk/agents/${agent.body.agent.id}/execute`, { key: agentsKey, body: { input } });
    expect(run.status).toBe(200);
    expect(run.body.output).toMatchObject({ report: 'line one\n[REDACTED:aws-access-token]', login: { password: '[REDACTED:generic-api-key]' } });
    expectNoSecret('execute response', run.body);
    expectNoSecret('database row', await t.store.sandboxExecutions.get(t.tenantA.id, run.body.execution_id));
    expectNoSecret('audit records', (await t.request('GET', '/api/v1/audit/records?limit=1000', { key: auditKey })).body);
    const proof = await t.request('GET', `/api/v1/sdk/executions/${run.body.execution_id}/verify`, { key: agentsKey });
    expect(proof.body).toMatchObject({ chain_valid: true, mismatches: [] });
  });

  // A classifier finding's `redacted` field is an excerpt of the scanned text, and /v1/enforce stores the scan's
  // findings in the decision's context.safety: the excerpt must be masked too.
  it('enforce: a safety classifier finding stored in the decision carries no secret from the scanned arguments', async () => {
    const policy = 'name: safety\nagents: { "*": { approvedScope: ["*"] } }\nrules:\n  - { id: rude, match: { tools: [send] }, when: "safety.toxicity > 0.3", effect: BLOCK, reason: rude }\n';
    // Tenant B, so that tenant A keeps the support policy the other cases use.
    const keyB = t.tenantB.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key: keyB, body: { name: 'safety', source: policy, activate: true } });
    expect(created.status).toBe(201);
    const text = `kill yourself you worthless idiot ${secrets.aws} I hate you`;
    const blocked = await t.request('POST', '/v1/enforce', { key: keyB, body: { agentId: 'mail-bot', sessionId: 'adv-safety', toolName: 'send', arguments: { text } } });
    expect(blocked.body.decision).toBe('BLOCK');
    const stored = await t.store.decisions.get(t.tenantB.id, blocked.body.decisionId);
    expect(stored?.arguments).toEqual({ text: expect.stringContaining('[REDACTED:aws-access-token]') });
    expectNoSecret('decision context (safety findings)', stored?.context);
  });

  // A permission request's justification is free text from the caller, stored and appended to the ledger (kept
  // for good): secrets in it are masked.
  it('permission requests: a secret in the justification reaches neither the stored request nor the ledger', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key: agentsKey, body: { name: 'adv-asker', entry_code: 'return 1;' } });
    expect(agent.status).toBe(201);
    const justification = `need the network to call the API with ${secrets.stripe}`;
    const request = await t.request('POST', '/api/sdk/permission-requests', { key: agentsKey, body: { agent_id: agent.body.agent.id, permissions: { permissions: ['data:read'] }, justification } });
    expect(request.status).toBeLessThan(300);
    expectNoSecret('audit records', (await t.request('GET', '/api/v1/audit/records?limit=1000', { key: auditKey })).body);
    expectNoSecret('permission request', (await t.request('GET', `/api/sdk/permission-requests/${request.body.id}`, { key: agentsKey })).body);
  });

  it('approvals: a secret in an approver\'s comment reaches neither the hold, the agent\'s poll nor the ledger', async () => {
    const policy = 'name: held\nagents: { "*": { approvedScope: ["*"] } }\nrules:\n  - { id: ask, match: { tools: [wire] }, effect: STEP_UP, reason: needs a person }\n';
    const key = t.tenantB.adminKey;
    expect((await t.request('POST', '/api/v1/policies', { key, body: { name: 'held', source: policy, activate: true } })).status).toBe(201);
    const held = await t.request('POST', '/v1/enforce', { key, body: { agentId: 'pay-bot', sessionId: 'adv-hold', toolName: 'wire', arguments: { amount: 5 } } });
    expect(held.body.decision).toBe('STEP_UP');
    const comment = `ok, use ${secrets.github} for the transfer`;
    const approved = await t.request('POST', `/api/v1/approvals/${held.body.holdToken}/approve`, { key, body: { comment } });
    expect(approved.status).toBe(200);
    expectNoSecret('approval item', approved.body);
    expectNoSecret('hold poll', (await t.request('GET', `/v1/enforce/hold/${held.body.holdToken}`, { key })).body);
    expectNoSecret('audit records', (await t.request('GET', '/api/v1/audit/records?limit=1000', { key })).body);
    expect(JSON.stringify(approved.body)).toContain('[REDACTED:github-pat]');
  });

  it('logs: the server logger masks a secret after an escaped line break and a credential named by its key', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    logger.info({ tool: { args: { login: { db_password: secrets.password } } } }, `tool output:\n${secrets.aws}\t${secrets.stripe}`);
    expect(lines).toHaveLength(1);
    expectNoSecret('log line', lines.join(''));
  });
});
