import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TollgateClient, TollgateRuntime, wrapToolFunctions } from '../src/index.js';
import type { TollgateConfig } from '../src/index.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
beforeAll(async () => {
  server = await startGovernedServer();
});
afterAll(async () => server?.close());

function config(apiUrl: string, overrides: Partial<TollgateConfig> = {}): TollgateConfig {
  return { agentId: 'fault-agent', apiUrl, apiKey: server.tenant.key, approvedScope: ['read_file', 'send_email'], sessionId: `s-${crypto.randomUUID()}`, logLevel: 'SILENT', events: { enabled: false }, ...overrides };
}

describe('network faults between the SDK and a real server', () => {
  it('a 5xx from the enforcer fails closed in block mode and open in observe mode', async () => {
    const proxy = await startFaultProxy({ target: server.url, fault: (_method, path) => (path === '/v1/enforce' ? { status: 503 } : undefined) });
    const ran: string[] = [];
    const tool = async (path: string) => { ran.push(path); return 'ok'; };
    const block = wrapToolFunctions({ read_file: tool }, config(proxy.url, { enforcement: 'block' }));
    await expect(block.read_file('/a')).rejects.toMatchObject({ code: 'ENFORCER_UNREACHABLE', details: { status: 503 } });
    const observe = wrapToolFunctions({ read_file: tool }, config(proxy.url, { enforcement: 'observe' }));
    await expect(observe.read_file('/b')).resolves.toBe('ok');
    expect(ran).toEqual(['/b']);
    await proxy.close();
  });

  it('an enforcer slower than enforceTimeoutMs counts as unreachable', async () => {
    const proxy = await startFaultProxy({ target: server.url, fault: (_method, path) => (path === '/v1/enforce' ? { delayMs: 1500 } : undefined) });
    const fns = wrapToolFunctions({ read_file: async () => 'ok' }, config(proxy.url, { enforcement: 'block', enforceTimeoutMs: 200 }));
    const refusal = await fns.read_file('/a').catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'ENFORCER_UNREACHABLE' });
    expect((refusal as Error).message).toContain('timed out after 200 ms');
    await proxy.close();
  });

  it('polls every stepUpPollIntervalMs when the server offers no long polling, and continues after approval', async () => {
    const proxy = await startFaultProxy({ target: server.url, withoutLongPoll: true });
    const sent: string[] = [];
    const fns = wrapToolFunctions({ send_email: async (to: string) => { sent.push(to); return 'sent'; } }, config(proxy.url, { enforcement: 'block', stepUpPollIntervalMs: 50 }));
    const call = fns.send_email('team@example.com');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await server.decideHold('send_email', 'approve');
    await expect(call).resolves.toBe('sent');
    expect(sent).toEqual(['team@example.com']);
    expect(proxy.seen.filter((line) => line.startsWith('GET /v1/enforce/hold/')).length).toBeGreaterThan(2);
    await proxy.close();
  });

  it('a lost acknowledgement makes the SDK send a batch again, and the server stores it once', async () => {
    let lost = 0;
    const proxy = await startFaultProxy({
      target: server.url,
      fault: (_method, path) => (path === '/v1/events/batch' && lost++ < 2 ? { loseAnswer: true } : undefined),
    });
    const runtime = new TollgateRuntime();
    const sessionId = `lost-ack-${crypto.randomUUID()}`;
    const fns = new TollgateClient({ runtime }).wrapOpenAITools(
      { read_file: async () => 'ok' },
      { ...config(proxy.url, { enforcement: 'block', sessionId }), events: { flushIntervalMs: 10, maxRetryDelayMs: 50 } },
    );
    for (let index = 0; index < 5; index += 1) await fns.read_file(`/tmp/${index}`);
    expect(await runtime.flush(10_000)).toBe(true);
    const stats = runtime.stats();
    expect(stats.failedAttempts).toBeGreaterThanOrEqual(2);
    expect(stats.duplicates).toBeGreaterThan(0);
    const stored = await server.events({ sessionId });
    expect(stored).toHaveLength(10);
    expect(new Set(stored.map((event) => event.eventId)).size).toBe(10);
    await proxy.close();
  });
});
