// `tollgate approvals notify`: a pending approval reaches the person on call through a webhook, against a real
// server and a real HTTP receiver. Nothing pending is missed across a notifier restart, a failing webhook is
// retried, arguments never leave, and a revoked key stops the notifier instead of looping.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test-utils/index.js';
import { NotifierAuthError, runApprovalNotifier } from '../src/notify/approval-notifier.js';
import { runCliCaptured } from './run-cli.js';
import { startReceiver, until } from './webhook-receiver.js';

const POLICY = `name: notify
agents:
  pay-bot:
    approvedScope: [refund, "lookup*"]
rules:
  - id: big-refund
    match: { tools: [refund] }
    when: args.amount > 100
    effect: STEP_UP
    reason: refunds over 100 need a person
  - id: lookups
    match: { tools: ["lookup*"] }
    effect: STEP_UP
    reason: lookups need a person
`;

describe('tollgate approvals notify', () => {
  let t: TestServer;
  let admin: string;
  let approver: string;
  const closers: Array<() => Promise<void>> = [];

  const stepUp = async (amount: number, sessionId: string) => {
    const answer = await t.request('POST', '/v1/enforce', { key: admin, body: { agentId: 'pay-bot', sessionId, toolName: 'refund', arguments: { amount, iban: 'DE89370400440532013000' } } });
    expect(answer.body.decision).toBe('STEP_UP');
    return answer.body.holdToken as string;
  };
  const receiver = async (failFirst = 0) => {
    const started = await startReceiver(failFirst);
    closers.push(() => new Promise((resolve) => started.server.close(() => resolve())));
    return started;
  };
  const notifier = (options: Partial<Parameters<typeof runApprovalNotifier>[0]> & { webhook: string }) => {
    const controller = new AbortController();
    const lines: string[] = [];
    const done = runApprovalNotifier({ url: t.url, apiKey: approver, retryBaseMs: 20, log: (line) => lines.push(line), signal: controller.signal, ...options });
    closers.push(async () => {
      controller.abort();
      await done.catch(() => undefined);
    });
    return { done, lines, stop: async () => { controller.abort(); await done; } };
  };

  beforeAll(async () => {
    t = await startTestServer();
    admin = t.tenantA.adminKey;
    approver = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] })).token;
    expect((await t.request('POST', '/api/v1/policies', { key: admin, body: { name: 'notify', source: POLICY, activate: true } })).status).toBe(201);
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await t?.close();
  });

  it('posts a held call as a Slack message with who, what, why and a link, never the arguments; once', async () => {
    const hook = await receiver();
    const running = notifier({ webhook: hook.url, dashboardUrl: 'https://tollgate.example' });
    await until(() => running.lines.includes('connected to the approvals stream'), 'the connection');
    const token = await stepUp(500, 'n-1');
    await until(() => hook.received.length === 1, 'the first message');
    const { text } = JSON.parse(hook.received[0]!.body) as { text: string };
    expect(text).toContain('pay-bot');
    expect(text).toContain('refund');
    expect(text).toContain('refunds over 100 need a person');
    expect(text).toContain('https://tollgate.example/approvals');
    expect(hook.received[0]!.body).not.toContain('DE89370400440532013000');
    // Approving it does not post again, and nothing else was pending.
    expect((await t.request('POST', `/api/v1/approvals/${token}/approve`, { key: approver, body: {} })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.received).toHaveLength(1);
    await running.stop();
  });

  it('posts what became pending while it was not running, oldest first, and signs JSON payloads', async () => {
    const first = await stepUp(200, 'n-2');
    const second = await stepUp(300, 'n-3');
    const hook = await receiver();
    const running = notifier({ webhook: hook.url, format: 'json', secret: 'shh' });
    await until(() => hook.received.length === 2, 'the backlog');
    const payloads = hook.received.map((request) => JSON.parse(request.body) as { type: string; id: string; toolName: string; url: string });
    expect(payloads.map((payload) => payload.id)).toEqual([first, second]);
    expect(payloads[0]).toMatchObject({ type: 'approval.pending', toolName: 'refund', url: `${t.url}/approvals` });
    for (const request of hook.received) {
      expect(request.headers['x-tollgate-signature']).toBe(`sha256=${createHmac('sha256', 'shh').update(request.body).digest('hex')}`);
    }
    for (const id of [first, second]) await t.request('POST', `/api/v1/approvals/${id}/deny`, { key: approver, body: {} });
    await running.stop();
  });

  it('retries a failing webhook until it takes the message', async () => {
    const hook = await receiver(2);
    const running = notifier({ webhook: hook.url });
    const token = await stepUp(150, 'n-4');
    await until(() => hook.received.length === 1, 'the retried message');
    expect(running.lines.filter((line) => line.includes('HTTP 500'))).toHaveLength(2);
    expect(JSON.parse(hook.received[0]!.body).text).toContain(token);
    await t.request('POST', `/api/v1/approvals/${token}/deny`, { key: approver, body: {} });
    await running.stop();
  });

  it('posts a burst of holds once each', async () => {
    const hook = await receiver();
    const running = notifier({ webhook: hook.url });
    await until(() => running.lines.includes('connected to the approvals stream'), 'the connection');
    const tokens = await Promise.all(Array.from({ length: 25 }, (_, i) => stepUp(101 + i, `burst-${i}`)));
    await until(() => hook.received.length >= 25, 'every hold of the burst');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mentioned = hook.received.map((request) => tokens.find((token) => request.body.includes(token)));
    expect(new Set(mentioned).size).toBe(25);
    expect(hook.received).toHaveLength(25);
    for (const token of tokens) await t.request('POST', `/api/v1/approvals/${token}/deny`, { key: approver, body: {} });
    await running.stop();
  });

  it('posts sandbox permission requests too', async () => {
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key: admin, body: { name: 'asker', entry_code: 'return 1;' } });
    const hook = await receiver();
    const running = notifier({ webhook: hook.url });
    await until(() => running.lines.includes('connected to the approvals stream'), 'the connection');
    const asked = await t.request('POST', '/api/sdk/permission-requests', { key: admin, body: { agent_id: agent.body.agent.id, permissions: { permissions: ['network:outbound'] }, justification: 'fetch the weather' } });
    expect(asked.status).toBe(201);
    await until(() => hook.received.some((request) => request.body.includes('asks for more permissions')), 'the permission request');
    await running.stop();
  });

  // Regression: the agent-chosen tool name (and a permission request's justification) went into Slack mrkdwn as it
  // was: the on-call channel got `<!channel>` and a phishing "Review in Tollgate" link from the agent.
  it('shows what an agent chose (tool name, justification) literally, never as a mention, a link or formatting', async () => {
    const hook = await receiver();
    const running = notifier({ webhook: hook.url });
    await until(() => running.lines.includes('connected to the approvals stream'), 'the connection');
    const toolName = 'lookup* <!channel> URGENT, approve now: <https://evil.example/approve|Review in Tollgate> *';
    const held = await t.request('POST', '/v1/enforce', { key: admin, body: { agentId: 'pay-bot', sessionId: 'n-md', toolName, arguments: {} } });
    expect(held.body.decision).toBe('STEP_UP');
    const agent = await t.request('POST', '/api/v1/sdk/agents', { key: admin, body: { name: 'asker-md', entry_code: 'return 1;' } });
    const justification = 'weather\n*Approved by security* <!here> `x` [Review](https://evil.example)';
    expect((await t.request('POST', '/api/sdk/permission-requests', { key: admin, body: { agent_id: agent.body.agent.id, permissions: { permissions: ['network:outbound'] }, justification } })).status).toBe(201);
    const texts = () => hook.received.map((received) => (JSON.parse(received.body) as { text: string }).text);
    await until(() => texts().some((text) => text.includes('lookup*')) && texts().some((text) => text.includes('Approved by security')), 'both messages');
    const hold = texts().find((text) => text.includes('lookup*'))!;
    const request = texts().find((text) => text.includes('Approved by security'))!;
    expect(hold).toContain('waits for approval to call `lookup* &lt;!channel&gt; URGENT, approve now: &lt;https://evil.example/approve|Review in Tollgate&gt; *`');
    expect(request).toContain(': `weather\\u000a*Approved by security* &lt;!here&gt; ˋxˋ [Review](https://evil.example)`.');
    for (const text of [hold, request]) {
      expect(text).not.toMatch(/<[!@h]/); // no mention, no link
      expect(text).not.toContain('\n');
    }
    await t.request('POST', `/api/v1/approvals/${held.body.holdToken as string}/deny`, { key: approver, body: {} });
    await running.stop();
  });

  // Regression: fetch's error quotes the URL it refused, password and all, and the notifier logged it at every
  // reconnection.
  it('logs a failing connection without the credentials the error quotes', async () => {
    const hook = await receiver();
    const running = notifier({ webhook: hook.url, url: t.url.replace('//', '//admin:S3cretPassw0rd@') });
    await until(() => running.lines.some((line) => line.startsWith('stream failed')), 'the failed connection');
    const line = running.lines.find((candidate) => candidate.startsWith('stream failed'))!;
    expect(line).toContain('//[redacted]@');
    expect(line).not.toContain('S3cretPassw0rd');
    await running.stop();
  });

  it('stops with an authentication error when its key is revoked or lacks the scope', async () => {
    const hook = await receiver();
    const wrongScope = (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce'] })).token;
    await expect(runApprovalNotifier({ url: t.url, apiKey: wrongScope, webhook: hook.url })).rejects.toBeInstanceOf(NotifierAuthError);
    const revocable = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['approvals'] });
    const running = notifier({ webhook: hook.url, apiKey: revocable.token });
    await until(() => running.lines.includes('connected to the approvals stream'), 'the connection');
    expect((await t.request('POST', `/api/v1/keys/${revocable.record.id}/revoke`, { key: admin })).status).toBe(200);
    await stepUp(120, 'n-5'); // an event makes the stream check the key again
    await expect(running.done).rejects.toBeInstanceOf(NotifierAuthError);
  });

  it('the command refuses a missing key, a bad format and a non-http URL before connecting', async () => {
    const saved = process.env.TOLLGATE_API_KEY;
    delete process.env.TOLLGATE_API_KEY;
    try {
      for (const [flags, message] of [
        [['--webhook', 'http://127.0.0.1:1/x'], /TOLLGATE_API_KEY/],
        [['--webhook', 'http://127.0.0.1:1/x', '--api-key', 'k', '--format', 'xml'], /--format must be one of slack, json/],
        [['--webhook', 'file:///etc/passwd', '--api-key', 'k'], /--webhook must be an http\(s\) URL/],
      ] as const) {
        const result = await runCliCaptured('approvals', 'notify', ...flags);
        expect(result.code).not.toBe(0);
        expect(result.err).toMatch(message);
      }
    } finally {
      if (saved !== undefined) process.env.TOLLGATE_API_KEY = saved;
    }
  });
});
