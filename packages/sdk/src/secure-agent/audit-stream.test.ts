import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditStream } from './audit-stream.js';
import { HttpClient } from './http-client.js';

// A plain SSE endpoint speaking the stream protocol: it sends two events per connection, then hangs up,
// and resumes after the Last-Event-ID it is given. The client under test must stitch the connections together.
function startStreamServer(seen: { headers: IncomingMessage['headers']; url: string }[]): Promise<Server> {
  const server = createServer((request, response) => {
    seen.push({ headers: request.headers, url: request.url ?? '' });
    const after = Number(request.headers['last-event-id'] ?? 0);
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write('retry: 10\n\n: keepalive\n\n');
    for (const id of [after + 1, after + 2]) {
      response.write(`event: audit\nid: ${id}\ndata: ${JSON.stringify({ seq: id })}\n\n`);
    }
    response.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('openAuditStream', () => {
  it('reconnects with Last-Event-ID and delivers every event exactly once, in order', async () => {
    const seen: { headers: IncomingMessage['headers']; url: string }[] = [];
    server = await startStreamServer(seen);
    const port = (server.address() as AddressInfo).port;
    const http = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'tg_live_k_s' });
    const received: number[] = [];
    let handle: ReturnType<typeof openAuditStream> | undefined;
    await new Promise<void>((resolve) => {
      handle = openAuditStream(http, { executionId: 12 }, (type, data) => {
        expect(type).toBe('audit');
        received.push((data as { seq: number }).seq);
        if (received.length === 6) resolve();
      });
    });
    handle?.close();
    await handle?.closed;
    expect(received).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen[0]?.headers.authorization).toBe('Bearer tg_live_k_s');
    expect(seen[0]?.url).toContain('executionId=12');
    expect(seen[0]?.headers['last-event-id']).toBeUndefined();
    expect(seen[1]?.headers['last-event-id']).toBe('2');
    expect(seen[2]?.headers['last-event-id']).toBe('4');
  });

  it('stops after one connection when reconnect is false', async () => {
    const seen: { headers: IncomingMessage['headers']; url: string }[] = [];
    server = await startStreamServer(seen);
    const port = (server.address() as AddressInfo).port;
    const http = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k' });
    const received: unknown[] = [];
    const handle = openAuditStream(http, { reconnect: false }, (_type, data) => received.push(data));
    await handle.closed;
    expect(received).toEqual([{ seq: 1 }, { seq: 2 }]);
    expect(seen).toHaveLength(1);
  });
});

describe('TrackedAuditStream (what SecureAgent.run() waits for)', () => {
  it('knows when an execution\'s sandbox.execution record was delivered', async () => {
    // Regression: the seed closes its stream right after `await agent.run()`, and the run's last record was lost.
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`event: connected\ndata: {}\n\n`);
      response.write(`event: audit\nid: 1\ndata: ${JSON.stringify({ action_type: 'sandbox.host_call', execution_id: '7' })}\n\n`);
      response.write(`event: audit\nid: 2\ndata: ${JSON.stringify({ action_type: 'sandbox.execution', execution_id: '7' })}\n\n`);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const http = new HttpClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
    const received: string[] = [];
    const stream = openAuditStream(http, { executionId: 7 }, (type) => received.push(type));
    await stream.whenConnected(60_000);
    await stream.whenExecutionRecorded(7, 60_000);
    expect(received).toEqual(['connected', 'audit', 'audit']);
    expect(stream.follows(7, undefined)).toBe(true);
    expect(stream.follows(8, undefined)).toBe(false);
    stream.close();
    server.closeAllConnections();
    await stream.closed;
  });

  it('does not hold runs up while the stream is refused (a key without audit:read)', async () => {
    server = createServer((_request, response) => {
      response.writeHead(403, { 'content-type': 'application/json' });
      response.end('{"error":{"code":"FORBIDDEN"}}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const http = new HttpClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
    const errors: Error[] = [];
    const stream = openAuditStream(http, { onError: (error) => errors.push(error) }, () => undefined);
    // Each would wait a minute (beyond the test timeout) if a refused stream were waited for.
    await stream.whenConnected(60_000);
    await stream.whenExecutionRecorded(1, 60_000);
    expect(errors[0]?.message).toContain('403');
    stream.close();
    await stream.closed;
  });
});
