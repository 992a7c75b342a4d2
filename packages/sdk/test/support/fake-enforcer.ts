/**
 * A small local HTTP server that plays a broken Tollgate: each test decides what every request gets,
 * including answers a real server never sends (garbage JSON, unknown decisions, redirects, instant
 * "pending" long polls). For behaviour of the real server use governed-server.ts instead.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake saw it. */
export interface SeenRequest {
  method: string;
  /** The raw request target, as sent on the wire (path and query). */
  url: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** What the fake answers: status, JSON-able body (or raw text), headers. */
export interface FakeAnswer {
  status?: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** A running fake enforcer. */
export interface FakeEnforcer {
  url: string;
  seen: SeenRequest[];
  /** Replaces the request handler. */
  answer(handler: (request: SeenRequest) => FakeAnswer | Promise<FakeAnswer>): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A decision body the SDK accepts, with overrides. */
export function decisionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { decision: 'ALLOW', reason: 'ok', decisionId: 'dec_1', violationId: null, holdToken: null, holdExpiresAt: null, matchedRules: [], policyVersion: 1, wouldHaveBeen: null, captureOutput: false, mode: 'block', ...overrides };
}

/**
 * Starts the fake on port 0; by default it answers 404 to everything.
 * @example
 * const fake = await startFakeEnforcer();
 * fake.answer(() => ({ json: decisionBody({ decision: 'BLOCK' }) }));
 */
export async function startFakeEnforcer(): Promise<FakeEnforcer> {
  const seen: SeenRequest[] = [];
  let handler: (request: SeenRequest) => FakeAnswer | Promise<FakeAnswer> = () => ({ status: 404, json: { error: { code: 'NOT_FOUND', message: 'no route' } } });
  const respond = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? '/';
    const entry: SeenRequest = { method: request.method ?? 'GET', url, path: url.split('?')[0] ?? '', headers: request.headers, body: parse(await readBody(request)) };
    seen.push(entry);
    const answer = await handler(entry);
    const text = answer.text ?? (answer.json === undefined ? '' : JSON.stringify(answer.json));
    response.writeHead(answer.status ?? 200, { 'content-type': answer.text === undefined ? 'application/json' : 'text/html', ...answer.headers }).end(text);
  };
  const server = createServer((request, response) => {
    respond(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answer: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
