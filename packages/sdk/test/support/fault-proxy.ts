/**
 * A small HTTP proxy in front of the real server that injects network faults: 5xx answers, delays,
 * lost acknowledgements (the request reaches the server, the answer never reaches the SDK), and an
 * "older server" mode without long polling. The server behind it is real; only the wire misbehaves.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with one request; return undefined to forward it untouched. `redirectTo` answers 307 with a
 * `Location` on that origin (same path and query), as a hijacked proxy or load balancer in front of the server might.
 */
export type Fault = { status: number } | { delayMs: number } | { loseAnswer: true } | { redirectTo: string } | undefined;

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  target: string;
  /** Decides a fault per request (method, path without query, the request body as text); called once the body has arrived. */
  fault?: (method: string, path: string, body: string) => Fault;
  /** Play an older server: ignore `waitMs` on hold lookups and never announce long polling. */
  withoutLongPoll?: boolean;
}

/** A running proxy. */
export interface FaultProxy {
  url: string;
  /** Every request seen, as `METHOD path?query`. */
  seen: string[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function forward(options: FaultProxyOptions, request: IncomingMessage, body: Buffer): Promise<Response> {
  let url = options.target + (request.url ?? '/');
  if (options.withoutLongPoll) url = url.replace(/waitMs=\d+/, 'waitMs=0');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
  return fetch(url, { method: request.method, headers, body: body.length > 0 ? body : undefined });
}

async function handle(options: FaultProxyOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readBody(request);
  const fault = options.fault?.(request.method ?? 'GET', (request.url ?? '').split('?')[0] ?? '', body.toString('utf8'));
  if (fault && 'redirectTo' in fault) {
    response.writeHead(307, { location: fault.redirectTo + (request.url ?? '/') }).end();
    return;
  }
  if (fault && 'status' in fault) {
    response.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected fault');
    return;
  }
  if (fault && 'delayMs' in fault) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
  const answer = await forward(options, request, body);
  const text = await answer.text();
  if (fault && 'loseAnswer' in fault) {
    response.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
  const longPoll = answer.headers.get('x-tollgate-long-poll');
  if (longPoll && !options.withoutLongPoll) headers['x-tollgate-long-poll'] = longPoll;
  response.writeHead(answer.status, headers).end(text);
}

/**
 * Starts the proxy on port 0.
 * @example
 * const proxy = await startFaultProxy({ target: server.url, fault: (m, p) => (p === '/v1/enforce' ? { status: 503 } : undefined) });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    handle(options, request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
