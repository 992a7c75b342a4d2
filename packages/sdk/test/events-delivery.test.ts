import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TollgateClient, TollgateRuntime } from '../src/index.js';
import { startTestServer } from '../../../test-utils/index.js';
import { eventually, startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
beforeAll(async () => {
  server = await startGovernedServer();
});
afterAll(async () => server?.close());

describe('event delivery', () => {
  it('a process that exits without flush() still delivers its events (beforeExit)', async () => {
    const sdkEntry = join(dirname(fileURLToPath(import.meta.url)), '../dist/index.js');
    const sessionId = `exit-${crypto.randomUUID()}`;
    const script = `
      const { instrument } = await import(${JSON.stringify(sdkEntry)});
      const agent = instrument({ tools: [{ name: 'read_file', run: async (p) => 'contents of ' + p }] },
        { agentId: 'exit-agent', apiUrl: ${JSON.stringify(server.url)}, apiKey: ${JSON.stringify(server.tenant.key)}, sessionId: ${JSON.stringify(sessionId)}, approvedScope: ['read_file'], events: { flushIntervalMs: 60000 } });
      for (let i = 0; i < 5; i += 1) await agent.tools[0].run('/tmp/' + i);
      // no flush(): the queue still holds every event here; beforeExit must send them
    `;
    // Asynchronous: the server answering the child runs in this process.
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    const events = await eventually(() => server.events({ sessionId }), (list) => list.length >= 10);
    expect(events).toHaveLength(10);
  });

  it('splits batches the server refuses as too large (413) and still delivers every event', async () => {
    const small = await startTestServer({ config: { bodyLimitBytes: 20_000 } });
    try {
      const { token } = await small.services.keys.create({ tenantId: small.tenantA.id, scopes: ['events:write', 'audit:read'] });
      const runtime = new TollgateRuntime();
      const governor = runtime.governor({ agentId: 'big-events', apiUrl: small.url, apiKey: token, logLevel: 'SILENT', events: { batchSize: 100, maxBatchBytes: 1_000_000, flushIntervalMs: 10 } });
      for (let index = 0; index < 40; index += 1) {
        governor.batcher.enqueue({
          eventId: crypto.randomUUID(), eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'big-events', userId: 'system', sessionId: 'big',
          toolName: 'read_file', callId: crypto.randomUUID(), timestamp: new Date().toISOString(), redaction: 'full', arguments: { blob: 'x'.repeat(3000) },
        });
      }
      expect(await runtime.flush(10_000)).toBe(true);
      expect(runtime.stats()).toMatchObject({ sent: 40, rejected: 0, dropped: 0 });
      const stored = await small.request('GET', '/api/v1/events?sessionId=big&limit=100', { key: token });
      expect(stored.body.events).toHaveLength(40);
    } finally {
      await small.close();
    }
  });

  it('bounds the queue: past maxQueueSize events are dropped and counted, and the tool is never delayed', async () => {
    const runtime = new TollgateRuntime();
    // Observe mode against a closed port: calls fail open, and no event can be delivered.
    const fns = new TollgateClient({ runtime }).wrapOpenAITools(
      { read_file: async (path: string) => `contents of ${path}` },
      { agentId: 'bounded', apiUrl: 'http://127.0.0.1:9', enforcement: 'observe', logLevel: 'SILENT', events: { maxQueueSize: 4, flushIntervalMs: 10, maxRetryDelayMs: 50 } },
    );
    for (let index = 0; index < 5; index += 1) await expect(fns.read_file(`/tmp/${index}`)).resolves.toBe(`contents of /tmp/${index}`);
    const stats = runtime.stats();
    expect(stats.queued).toBe(4);
    expect(stats.dropped).toBe(6);
    expect(stats.pending).toBe(4);
    expect(await runtime.shutdown(100)).toBe(false);
  });
});
