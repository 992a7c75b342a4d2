import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST the receiver took. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A local webhook receiver for the notifier tests: answers the first `failFirst` requests with 500, then 200, and
 * keeps what it took.
 *
 * @example
 * const hook = await startReceiver();
 * // … hook.url, hook.received
 */
export function startReceiver(failFirst = 0): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  let failures = failFirst;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (failures > 0) {
        failures -= 1;
        response.writeHead(500).end();
        return;
      }
      received.push({ headers: request.headers, body });
      response.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received })));
}

/**
 * Polls `check` every 20 ms until it holds; throws after `timeoutMs`.
 *
 * @example
 * await until(() => hook.received.length === 1, 'the message');
 */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
