// The live audit stream ends (timeout, credential gone) while a slow client still has data buffered: nothing may be
// written to the response after it ended, or Node raises ERR_STREAM_WRITE_AFTER_END with no listener and the
// server process dies.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../../test-utils/index.js';
import type { TestServer } from '../../../test-utils/index.js';

describe('adversarial: a slow reader of the live audit stream', () => {
  let t: TestServer;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    t = await startTestServer({ config: { auditStreamKeepaliveMs: 50, auditStreamTimeoutMs: 400 } });
    const padding = 'x'.repeat(4_000);
    await Promise.all(Array.from({ length: 3_000 }, (_, i) => t.services.ledger.append(t.tenantA.id, { type: 'bulk.record', data: { i, padding } })));
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await t?.close();
  });

  // Regression: at the timeout the stream ended while the keepalive timer and a pump waiting for 'drain' were still
  // live; with the client's socket full, 'close' had not fired yet, so the next keepalive (or the pump once the
  // client read again) wrote after end: an uncaught ERR_STREAM_WRITE_AFTER_END.
  it('ends at the timeout without writing after the end, and the server stays up', async () => {
    const { port } = new URL(t.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // read nothing: the server's writes back up
    socket.write(`GET /api/sdk/audit/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.tenantA.adminKey}\r\nLast-Event-ID: 0\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // past the timeout, many keepalive periods
    let received = 0;
    let tail = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-200);
    });
    socket.resume();
    // The response is chunked on a keep-alive connection: its end is the last chunk, not the socket closing.
    const deadline = Date.now() + 10_000;
    while (!tail.endsWith('\r\n0\r\n\r\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 200)); // keepalive periods after the end
    socket.destroy();
    expect(received).toBeGreaterThan(100_000);
    expect(tail).toMatch(/event: timeout[\s\S]*\r\n0\r\n\r\n$/);
    expect(uncaught.map((e) => (e as { code?: string }).code)).toEqual([]);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });
});
