/**
 * Regression: one event the server refuses (a tool error over 10,000 characters, a tool name over 256) made it answer
 * 400 for the whole batch, and the SDK dropped every event in it, the other calls' events included.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TollgateClient, TollgateRuntime } from '../src/index.js';
import type { BehavioralEvent, TollgateConfig } from '../src/index.js';
import { MAX_EVENT_ERROR_CHARS, MAX_EVENT_NAME_CHARS } from '../src/event-limits.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
const runtimes: TollgateRuntime[] = [];
beforeAll(async () => {
  server = await startGovernedServer();
});
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.shutdown(100)));
});
afterAll(async () => server?.close());

function newRuntime(): TollgateRuntime {
  const runtime = new TollgateRuntime();
  runtimes.push(runtime);
  return runtime;
}

function config(runtimeSession: string, overrides: Partial<TollgateConfig> = {}): TollgateConfig {
  // A long flush interval: every event of the test goes out in one batch, at flush().
  return { agentId: 'pay-bot', apiUrl: server.url, apiKey: server.tenant.key, sessionId: runtimeSession, logLevel: 'SILENT', enforcement: 'observe', events: { flushIntervalMs: 60_000 }, ...overrides };
}

describe('events over the wire limits', () => {
  it('a tool error over 10,000 characters is cut, and every event of the batch is stored', async () => {
    const runtime = newRuntime();
    const sessionId = `poison-${crypto.randomUUID()}`;
    const fns = new TollgateClient({ runtime }).wrapOpenAITools(
      {
        transfer_funds: async (args: { amount: number; to: string }) => `sent ${args.amount} to ${args.to}`,
        parse_doc: async (args: { doc: string }) => { throw new Error(`cannot parse document: ${args.doc}`); },
      },
      config(sessionId),
    );
    await fns.transfer_funds({ amount: 90_000, to: 'attacker-iban' });
    await expect(fns.parse_doc({ doc: 'x'.repeat(10_050) })).rejects.toThrow('cannot parse document');
    expect(await runtime.flush(10_000)).toBe(true);
    expect(runtime.stats()).toMatchObject({ queued: 4, sent: 4, rejected: 0, dropped: 0, pending: 0 });
    const stored = await server.events({ sessionId });
    expect(stored.map((event) => `${event.eventType} ${event.toolName}`).sort()).toEqual(['TOOL_CALL_POST parse_doc', 'TOOL_CALL_POST transfer_funds', 'TOOL_CALL_PRE parse_doc', 'TOOL_CALL_PRE transfer_funds']);
    const failed = stored.find((event) => event.toolName === 'parse_doc' && event.eventType === 'TOOL_CALL_POST');
    expect(failed?.error).toHaveLength(MAX_EVENT_ERROR_CHARS);
    expect(failed?.error?.startsWith('Error: cannot parse document: xxx')).toBe(true);
    expect(failed?.error?.endsWith('…')).toBe(true);
  });

  it('a tool name over 256 characters is cut, and the events of the other calls are stored', async () => {
    const runtime = newRuntime();
    const sessionId = `long-name-${crypto.randomUUID()}`;
    const longName = `tool_${'n'.repeat(300)}`;
    const fns = new TollgateClient({ runtime }).wrapOpenAITools({ read_file: async (path: string) => `contents of ${path}` }, config(sessionId));
    await fns.read_file('/tmp/a');
    const governor = runtime.governor(config(sessionId));
    governor.batcher.enqueue(event(sessionId, { toolName: longName }));
    expect(await runtime.flush(10_000)).toBe(true);
    expect(runtime.stats()).toMatchObject({ sent: 3, rejected: 0 });
    const stored = await server.events({ sessionId });
    expect(stored).toHaveLength(3);
    expect(stored.find((item) => item.toolName.startsWith('tool_'))?.toolName).toBe(`${longName.slice(0, MAX_EVENT_NAME_CHARS - 1)}…`);
  });
});

describe('a batch the server still refuses (400)', () => {
  it('is split until the refused event stands alone: only it is dropped, and the counters say so', async () => {
    const runtime = newRuntime();
    const sessionId = `bisect-${crypto.randomUUID()}`;
    const governor = runtime.governor(config(sessionId, { events: { flushIntervalMs: 60_000, batchSize: 100 } }));
    const good = Array.from({ length: 6 }, () => event(sessionId));
    // A timestamp that is not a date-time: the server refuses it (400), and no client-side cut can fix it.
    const bad = event(sessionId, { timestamp: 'yesterday at noon' });
    for (const item of [...good.slice(0, 4), bad, ...good.slice(4)]) governor.batcher.enqueue(item);
    expect(await runtime.flush(10_000)).toBe(true);
    const stats = runtime.stats();
    expect(stats).toMatchObject({ queued: 7, sent: 6, duplicates: 0, rejected: 1, dropped: 0, pending: 0 });
    expect(stats.failedAttempts).toBeGreaterThan(0);
    const stored = await server.events({ sessionId });
    expect(stored.map((item) => item.eventId).sort()).toEqual(good.map((item) => item.eventId).sort());
  });

  it('drops every event when each is refused alone, counting each once', async () => {
    const runtime = newRuntime();
    const sessionId = `all-bad-${crypto.randomUUID()}`;
    const governor = runtime.governor(config(sessionId));
    for (let index = 0; index < 5; index += 1) governor.batcher.enqueue(event(sessionId, { timestamp: 'never' }));
    expect(await runtime.flush(10_000)).toBe(true);
    expect(runtime.stats()).toMatchObject({ queued: 5, sent: 0, rejected: 5, pending: 0 });
    expect(await server.events({ sessionId })).toEqual([]);
  });
});

function event(sessionId: string, overrides: Partial<BehavioralEvent> = {}): BehavioralEvent {
  return {
    eventId: crypto.randomUUID(), eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'pay-bot', userId: 'system', sessionId,
    toolName: 'read_file', callId: crypto.randomUUID(), timestamp: new Date().toISOString(), redaction: 'full', arguments: { path: '/tmp/x' }, ...overrides,
  };
}
