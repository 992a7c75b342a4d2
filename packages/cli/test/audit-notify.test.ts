// `tollgate audit notify`: violations and kill-switch changes reach a webhook as they are recorded, against a real
// server and receiver; a restart with a state file resumes right after the last record handled.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { runAuditNotifier, type AuditNotifierOptions } from '../src/notify/audit-notifier.js';
import { NotifierAuthError } from '../src/notify/webhook.js';
import { runCliCaptured } from './run-cli.js';
import { startReceiver, until } from './webhook-receiver.js';

const POLICY = `name: alerts
agents:
  mail-bot:
    approvedScope: [send_email, search]
    enforcement: block
rules:
  - id: no-outside-mail
    match: { tools: [send_email] }
    when: '!args.to.endsWith("@acme.example")'
    effect: BLOCK
    reason: mail may only go to acme.example
`;

/** The bodies a receiver took, in order. */
const bodiesOf = (hook: { received: Array<{ body: string }> }): string[] => hook.received.map((request) => request.body);

describe('tollgate audit notify', () => {
  let t: TestServer;
  let admin: string;
  let reader: string;
  let dir: string;
  const closers: Array<() => Promise<void>> = [];

  const mail = async (to: string, sessionId: string) =>
    (await t.request('POST', '/v1/enforce', { key: admin, body: { agentId: 'mail-bot', sessionId, toolName: 'send_email', arguments: { to, body: 'quarterly numbers' } } })).body;
  const start = (options: Partial<AuditNotifierOptions> & { webhook: string }) => {
    const controller = new AbortController();
    const lines: string[] = [];
    const done = runAuditNotifier({ url: t.url, apiKey: reader, retryBaseMs: 20, log: (line) => lines.push(line), signal: controller.signal, ...options });
    const stop = async () => {
      controller.abort();
      await done.catch(() => undefined);
    };
    closers.push(stop);
    return { done, lines, stop };
  };
  const receiver = async () => {
    const started = await startReceiver();
    closers.push(() => new Promise((resolve) => started.server.close(() => resolve())));
    return started;
  };
  const connected = (lines: string[], count = 1) => until(() => lines.filter((line) => line.startsWith('connected to the audit stream')).length >= count, 'the connection');

  beforeAll(async () => {
    t = await startTestServer();
    admin = t.tenantA.adminKey;
    reader = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['audit:read'] })).token;
    expect((await t.request('POST', '/api/v1/policies', { key: admin, body: { name: 'alerts', source: POLICY, activate: true } })).status).toBe(201);
    dir = mkdtempSync(join(tmpdir(), 'tollgate-audit-notify-'));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts violations and kill-switch changes, not allowed calls, with who, what and the ledger index', async () => {
    const hook = await receiver();
    const running = start({ webhook: hook.url });
    await connected(running.lines); // the stream starts with the records committed after it connects
    expect((await mail('ceo@acme.example', 'a-1')).decision).toBe('ALLOW');
    expect((await mail('leak@evil.example', 'a-1')).decision).toBe('BLOCK');
    await until(() => bodiesOf(hook).length >= 1, 'the violation');
    const violation = (JSON.parse(bodiesOf(hook)[0]!) as { text: string }).text;
    expect(violation).toMatch(/^Violation: agent `mail-bot` /);
    expect(violation).toContain('enforcement.violation');
    expect(violation).toMatch(/ledger #\d+/);
    expect(violation).not.toContain('quarterly numbers');
    expect((await t.request('POST', '/api/sdk/agents/mail-bot/kill', { key: admin, body: { reason: 'leaking mail' } })).status).toBe(200);
    await until(() => bodiesOf(hook).some((body) => body.includes('kill_switch.engaged')), 'the kill');
    expect(bodiesOf(hook).find((body) => body.includes('kill_switch.engaged'))).toContain('Kill switch');
    await t.request('POST', '/api/sdk/agents/mail-bot/unkill', { key: admin, body: { reason: 'fixed' } });
    await until(() => bodiesOf(hook).some((body) => body.includes('kill_switch.released')), 'the release');
    // Nothing for the allowed call: one violation, the kill and the release.
    expect(bodiesOf(hook)).toHaveLength(3);
    await running.stop();
  });

  // Regression: the description (which quotes the agent-chosen tool name) and the session went into Slack mrkdwn as
  // they were: an agent could post `<!channel>` and a link of its own to the alert channel.
  it('shows what an agent chose (tool name, session) literally, never as a mention, a link or formatting', async () => {
    const hook = await receiver();
    const running = start({ webhook: hook.url });
    await connected(running.lines);
    const toolName = '<!channel> *URGENT* <https://evil.example/ack|Acknowledge in Tollgate>';
    const answer = (await t.request('POST', '/v1/enforce', { key: admin, body: { agentId: 'mail-bot', sessionId: 's-<!here>_x_', toolName, arguments: {} } })).body;
    expect(answer.decision).toBe('BLOCK');
    await until(() => bodiesOf(hook).length >= 1, 'the violation');
    const text = (JSON.parse(bodiesOf(hook)[0]!) as { text: string }).text;
    expect(text).toMatch(/^Violation: agent `mail-bot` `[^`]*&lt;!channel&gt; \*URGENT\* &lt;https:\/\/evil\.example\/ack\|Acknowledge in Tollgate&gt;[^`]*` \(`enforcement\.violation`, ledger #\d+, session `s-&lt;!here&gt;_x_`\)\. /);
    expect(text).not.toMatch(/<[!@h]/);
    await running.stop();
  });

  it('with a state file, a restart posts what was recorded while it was down, once, in ledger order', async () => {
    const state = join(dir, 'audit.state');
    const hook = await receiver();
    const first = start({ webhook: hook.url, stateFile: state, format: 'json' });
    await connected(first.lines);
    await mail('probe@evil.example', 's-probe');
    await until(() => bodiesOf(hook).length === 1, 'the probe');
    await first.stop();
    const handled = Number(readFileSync(state, 'utf8'));
    expect(Number.isSafeInteger(handled)).toBe(true);
    const seen = bodiesOf(hook).length;
    await mail('one@evil.example', 's-down');
    await mail('two@evil.example', 's-down');
    const second = start({ webhook: hook.url, stateFile: state, format: 'json' });
    await until(() => bodiesOf(hook).length === seen + 2, 'the two records from the downtime');
    const replayed = bodiesOf(hook).slice(seen).map((body) => JSON.parse(body) as { type: string; index: number; recordType: string; sessionId: string });
    expect(replayed.map((record) => record.sessionId)).toEqual(['s-down', 's-down']);
    expect(replayed[0]!.index).toBeGreaterThan(handled);
    expect(replayed[1]!.index).toBeGreaterThan(replayed[0]!.index);
    expect(replayed[0]).toMatchObject({ type: 'audit.record', recordType: 'enforcement.violation' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bodiesOf(hook)).toHaveLength(seen + 2);
    await second.stop();
    expect(Number(readFileSync(state, 'utf8'))).toBeGreaterThanOrEqual(replayed[1]!.index);
  });

  it('--types picks other records; a state file that holds no index is refused', async () => {
    const hook = await receiver();
    const running = start({ webhook: hook.url, types: ['policy.activated'] });
    await connected(running.lines);
    await mail('x@evil.example', 's-types');
    const policies = await t.request('GET', '/api/v1/policies', { key: admin });
    await t.request('POST', `/api/v1/policies/${policies.body.policies[0].id}/activate`, { key: admin, body: { version: 1 } });
    await until(() => bodiesOf(hook).length === 1, 'the activation');
    expect(bodiesOf(hook)[0]).toContain('policy.activated');
    await running.stop();
    const bad = join(dir, 'bad.state');
    writeFileSync(bad, 'not a number');
    await expect(runAuditNotifier({ url: t.url, apiKey: reader, webhook: hook.url, stateFile: bad })).rejects.toThrow(/does not hold a ledger index/);
  });

  it('stops with an authentication error for a key without audit:read; the command checks its flags', async () => {
    const hook = await receiver();
    const approver = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
    await expect(runAuditNotifier({ url: t.url, apiKey: approver, webhook: hook.url })).rejects.toBeInstanceOf(NotifierAuthError);
    const result = await runCliCaptured('audit', 'notify', '--webhook', 'http://127.0.0.1:1/x', '--api-key', 'k', '--types', ' , ');
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/--types lists no record type/);
  });
});
