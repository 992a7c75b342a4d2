/**
 * Regression: an event's argument or result JSON was cut at exactly 32,768 UTF-16 units. An emoji across the cut left a
 * lone surrogate, which the server refuses (400), so the event was lost; a private key across the cut lost its END
 * line, so the server's secret rule no longer matched and the key body was stored in clear. The server here is real.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStats, flush, instrument } from '../src/index.js';
import type { TollgateConfig } from '../src/index.js';
import { MAX_EVENT_PAYLOAD_CHARS } from '../src/redaction.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { startGovernedServer, type GovernedServer } from './support/governed-server.js';

let server: GovernedServer;
beforeAll(async () => {
  server = await startGovernedServer();
});
afterAll(async () => {
  await flush(5000);
  await server?.close();
});

function config(sessionId: string): TollgateConfig {
  return { agentId: 'preview-agent', apiUrl: server.url, apiKey: server.tenant.key, approvedScope: ['read_file'], sessionId, logLevel: 'SILENT' };
}

describe('event previews of large payloads', () => {
  it('an emoji across the 32 KiB cut no longer gets the event refused', async () => {
    const sessionId = `s-${crypto.randomUUID()}`;
    const agent = instrument({ tools: [{ name: 'read_file', run: async (_text: string) => 'ok' }] }, config(sessionId));
    // The event's JSON is '"' + text + '"': the emoji's two UTF-16 units sit at offsets 32767 and 32768, across the cut.
    const text = 'a '.repeat((MAX_EVENT_PAYLOAD_CHARS - 2) / 2) + '😀' + 'b'.repeat(10);
    const rejectedBefore = eventStats().rejected;
    await agent.tools[0]!.run(text);
    await flush(5000);
    const events = await server.events({ sessionId });
    expect(events.map((event) => event.eventType).sort()).toEqual(['TOOL_CALL_POST', 'TOOL_CALL_PRE']);
    expect(eventStats().rejected).toBe(rejectedBefore);
    const pre = events.find((event) => event.eventType === 'TOOL_CALL_PRE')!;
    expect(pre.arguments).toMatchObject({ truncated: true, preview: expect.stringMatching(/^"(a )+a$/) });
  });

  it('a private key across the cut is left out of what the SDK sends, not stored in clear', async () => {
    const sessionId = `s-${crypto.randomUUID()}`;
    // Records the event batches as they leave the SDK: the server's own redaction must not be what protects the key.
    const sent: string[] = [];
    const proxy = await startFaultProxy({ target: server.url, fault: (_method, path, body) => void (path === '/v1/events/batch' && sent.push(body)) });
    try {
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
      // A large file (a config dump) in which a key happens to sit across the 32 KiB mark.
      const file = `settings:\n${'x'.repeat(MAX_EVENT_PAYLOAD_CHARS - 1000)}\n${pem}${'y'.repeat(20_000)}`;
      const agent = instrument({ tools: [{ name: 'read_file', run: async (_path: string) => file }] }, { ...config(sessionId), apiUrl: proxy.url });
      await agent.tools[0]!.run('/srv/app/config.txt');
      await flush(5000);
      const post = (await server.events({ sessionId })).find((event) => event.eventType === 'TOOL_CALL_POST')!;
      expect(post.result).toMatchObject({ truncated: true, preview: expect.stringContaining('settings:') });
      const stored = JSON.stringify(post.result);
      const keyLines = pem.split('\n').slice(1, 8);
      expect(sent.join('\n')).toContain('settings:');
      for (const line of keyLines) {
        expect(sent.join('\n')).not.toContain(line);
        expect(stored).not.toContain(line);
      }
      expect(sent.join('\n')).not.toContain('PRIVATE KEY');
    } finally {
      await proxy.close();
    }
  });
});
