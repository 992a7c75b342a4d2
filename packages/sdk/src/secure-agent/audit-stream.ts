import { NO_REDIRECTS, isRedirect } from '../connection-checks.js';
import type { HttpClient } from './http-client.js';
import { redirectRefused } from './http-client.js';
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
 * How long `SecureAgent.run()` waits for the agent's open audit streams: to be connected before it starts the
 * run, and to have delivered the run's `sandbox.execution` record before it returns.
 */
export const DEFAULT_STREAM_SETTLE_MS = 2_000;
/** Execution ids remembered per stream for {@link TrackedAuditStream.whenExecutionRecorded}. */
const REMEMBERED_EXECUTIONS = 256;

/**
 * A stream handle that also knows what it has delivered, so `SecureAgent.run()` can keep the seed's promise
 * ("the stream will receive events in real time") for code that closes the stream right after `await run()`.
 */
export class TrackedAuditStream implements AuditStreamHandle {
  readonly closed: Promise<void>;
  private readonly controller = new AbortController();
  private readonly recorded: string[] = [];
  private readonly waiters = new Set<() => void>();
  private connected = false;
  private failed = false;

  constructor(http: HttpClient, private readonly options: AuditStreamOptions, onEvent: AuditEventHandler) {
    const parser = new SseParser((event) => {
      const data = parseData(event.data);
      this.observe(event.type, data);
      onEvent(event.type, data);
    });
    const onError = (error: Error) => {
      this.connected = false;
      this.failed = true;
      this.notify();
      options.onError?.(error);
    };
    this.closed = runLoop(http, { ...options, onError }, parser, this.controller.signal).finally(() => this.notify());
  }

  close(): void {
    this.controller.abort();
    this.notify();
  }

  /** True when this stream's filter lets the execution's records through. */
  follows(executionId: number | string, agentId: number | string | undefined): boolean {
    if (this.controller.signal.aborted) return false;
    if (this.options.executionId !== undefined && String(this.options.executionId) !== String(executionId)) return false;
    return this.options.agentId === undefined || agentId === undefined || String(this.options.agentId) === String(agentId);
  }

  /** Resolves once connected, or at once when the stream failed (a failing stream must not hold runs up). */
  whenConnected(timeoutMs: number): Promise<void> {
    return this.waitFor(() => this.connected || this.failed, timeoutMs);
  }

  /**
   * Resolves once the execution's `sandbox.execution` record was delivered, after `timeoutMs`, or at once while
   * the stream is down after a failure (a key without `audit:read` must not slow every run down).
   */
  whenExecutionRecorded(executionId: number | string, timeoutMs: number): Promise<void> {
    return this.waitFor(() => this.recorded.includes(String(executionId)) || (this.failed && !this.connected), timeoutMs);
  }

  private observe(type: string, data: unknown): void {
    if (type === 'connected') {
      this.connected = true;
    } else if (type === 'audit' && isExecutionRecord(data)) {
      this.recorded.push(String(data.execution_id));
      if (this.recorded.length > REMEMBERED_EXECUTIONS) this.recorded.shift();
    } else {
      return;
    }
    this.notify();
  }

  private waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done() || this.controller.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done() || this.controller.signal.aborted) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

function isExecutionRecord(data: unknown): data is { execution_id: string | number } {
  if (data === null || typeof data !== 'object') return false;
  const record = data as { action_type?: unknown; execution_id?: unknown };
  return record.action_type === 'sandbox.execution' && (typeof record.execution_id === 'string' || typeof record.execution_id === 'number');
}

/**
 * Opens the SSE audit stream over fetch (Node.js ≥ 18, no EventSource needed) and keeps it open:
 * after a disconnect it reconnects with `Last-Event-ID`, so the server resumes without gap or duplicate.
 *
 * @example
 * const stream = openAuditStream(http, { executionId: 12 }, (type, data) => console.log(type, data));
 * stream.close();
 */
export function openAuditStream(http: HttpClient, options: AuditStreamOptions, onEvent: AuditEventHandler): TrackedAuditStream {
  return new TrackedAuditStream(http, options, onEvent);
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
  const response = await http.fetch(url, { headers, signal, ...NO_REDIRECTS });
  if (isRedirect(response)) throw redirectRefused('GET', AUDIT_STREAM_PATH, response);
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
