import type { HttpClient } from './http-client.js';
import { SseParser } from './sse-parser.js';

/** Path of the live audit stream (served by the ledger area). */
export const AUDIT_STREAM_PATH = '/api/sdk/audit/stream';
/** Wait before reconnecting when the server sent no `retry` hint. */
export const DEFAULT_RECONNECT_DELAY_MS = 1_000;

export interface AuditStreamOptions {
  executionId?: number | string;
  agentId?: number | string;
  /** ISO timestamp: only events recorded at or after it. */
  since?: string;
  /** Reconnect (resuming with `Last-Event-ID`) after the server closes or the network fails. Default true. */
  reconnect?: boolean;
  /** Called when a connection attempt fails; the stream keeps retrying unless `reconnect` is false. */
  onError?: (error: Error) => void;
}

/** Handle returned by `streamAuditLog`. */
export interface AuditStreamHandle {
  close(): void;
  /** Resolves once the stream has stopped for good (after `close()`, or after a failure with `reconnect: false`). */
  readonly closed: Promise<void>;
}

export type AuditEventHandler = (type: string, data: unknown) => void;

/**
 * Opens the SSE audit stream over fetch (Node.js ≥ 18, no EventSource needed) and keeps it open:
 * after a disconnect it reconnects with `Last-Event-ID`, so the server resumes without gap or duplicate.
 *
 * @example
 * const stream = openAuditStream(http, { executionId: 12 }, (type, data) => console.log(type, data));
 * stream.close();
 */
export function openAuditStream(http: HttpClient, options: AuditStreamOptions, onEvent: AuditEventHandler): AuditStreamHandle {
  const controller = new AbortController();
  const parser = new SseParser((event) => onEvent(event.type, parseData(event.data)));
  const closed = runLoop(http, options, parser, controller.signal);
  return { close: () => controller.abort(), closed };
}

async function runLoop(http: HttpClient, options: AuditStreamOptions, parser: SseParser, signal: AbortSignal): Promise<void> {
  const reconnect = options.reconnect ?? true;
  while (!signal.aborted) {
    try {
      await readOnce(http, options, parser, signal);
    } catch (error) {
      if (signal.aborted) return;
      options.onError?.(error as Error);
    }
    if (!reconnect || signal.aborted) return;
    await sleep(parser.retryMs ?? DEFAULT_RECONNECT_DELAY_MS, signal);
  }
}

async function readOnce(http: HttpClient, options: AuditStreamOptions, parser: SseParser, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = { ...http.authHeaders(), accept: 'text/event-stream' };
  if (parser.lastEventId !== undefined) headers['last-event-id'] = parser.lastEventId;
  const url = http.url(AUDIT_STREAM_PATH, {
    executionId: options.executionId === undefined ? undefined : String(options.executionId),
    agentId: options.agentId === undefined ? undefined : String(options.agentId),
    since: options.since,
  });
  const response = await http.fetch(url, { headers, signal });
  if (!response.ok || !response.body) throw new Error(`audit stream answered HTTP ${response.status}`);
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.push(decoder.decode(value, { stream: true }));
  }
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
