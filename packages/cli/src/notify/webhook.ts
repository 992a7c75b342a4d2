import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { redactCredentials } from '../credential-redaction.js';

/** How a notification is posted: Slack-style `{ text }` (Slack, Mattermost, Teams workflows) or a JSON document. */
export type NotifyFormat = 'slack' | 'json';

/** Where and how notifications are posted (shared by the approval and audit notifiers). */
export interface WebhookOptions {
  readonly webhook: string;
  /** With it, each POST carries `X-Tollgate-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  readonly secret?: string | undefined;
  /** Attempts per notification (default 5), `retryBaseMs` (default 500), twice that, … apart. */
  readonly attempts?: number | undefined;
  readonly retryBaseMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

/** The server refused the key (revoked, expired, lacking the scope): reconnecting cannot help. */
export class NotifierAuthError extends Error {}

const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * POSTs `payload` as JSON to the webhook, retrying non-2xx answers and network errors with exponential backoff.
 * Resolves true once delivered, false after the last attempt (or when stopped).
 *
 * @example
 * await postWebhook({ webhook: 'https://hooks.slack.com/services/…' }, { text: 'hello' }, 'test');
 */
export async function postWebhook(options: WebhookOptions, payload: unknown, label: string): Promise<boolean> {
  const log = options.log ?? (() => undefined);
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.secret) headers['x-tollgate-signature'] = `sha256=${createHmac('sha256', options.secret).update(body).digest('hex')}`;
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.retryBaseMs ?? 500;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    if (options.signal?.aborted) return false;
    try {
      const response = await fetch(options.webhook, { method: 'POST', headers, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      await response.body?.cancel();
      if (response.ok) return true;
      log(`webhook answered HTTP ${response.status} for ${label} (attempt ${attempt} of ${attempts})`);
    } catch (error) {
      log(`webhook failed for ${label}: ${messageOf(error)} (attempt ${attempt} of ${attempts})`);
    }
    if (attempt < attempts) await sleep(base * 2 ** (attempt - 1), undefined, { signal: options.signal }).catch(() => undefined);
  }
  return false;
}

/**
 * Opens a Tollgate SSE stream and hands each event to `onEvent` until the stream ends. A 401/403 answer, or an
 * `error` event with code `UNAUTHENTICATED`, rejects with {@link NotifierAuthError}.
 *
 * @example
 * await followStream(new URL('/api/v1/approvals/stream', url), { authorization: `Bearer ${key}` }, (event) => …, signal);
 */
export async function followStream(
  url: URL,
  headers: Record<string, string>,
  onEvent: (event: EventSourceMessage) => void,
  signal?: AbortSignal,
): Promise<void> {
  const response = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: signal ?? null });
  if (response.status === 401 || response.status === 403) throw new NotifierAuthError(`the server refused the key (HTTP ${response.status})`);
  if (!response.ok || !response.body) throw new Error(`GET ${url.pathname}: HTTP ${response.status}`);
  let refused: NotifierAuthError | undefined;
  const parser = createParser({
    onEvent: (event) => {
      if (event.event === 'error') {
        const data = parseJson(event.data) as { code?: unknown; message?: unknown } | undefined;
        if (data?.code === 'UNAUTHENTICATED') refused = new NotifierAuthError(String(data.message ?? 'the key no longer stands'));
        return;
      }
      onEvent(event);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (refused) throw refused;
  }
}

/**
 * Runs `connect` until stopped, reconnecting with backoff (from `baseMs` up to 30 s, reset by `connected()`), and
 * rethrows {@link NotifierAuthError}.
 *
 * @example
 * await reconnecting({ baseMs: 500, signal, log }, (connected) => followStream(…));
 */
export async function reconnecting(
  options: { baseMs: number; signal?: AbortSignal | undefined; log: (line: string) => void },
  connect: (connected: () => void) => Promise<void>,
): Promise<void> {
  let delay = options.baseMs;
  while (!options.signal?.aborted) {
    try {
      await connect(() => {
        delay = options.baseMs;
      });
      options.log('stream ended; reconnecting');
    } catch (error) {
      if (error instanceof NotifierAuthError) throw error;
      if (options.signal?.aborted) break;
      options.log(`stream failed: ${messageOf(error)}; reconnecting in ${delay} ms`);
    }
    await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    delay = Math.min(delay * 2, MAX_RECONNECT_MS);
  }
}

const MAX_RECONNECT_MS = 30_000;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * An error's message for a log line, without the credentials it may quote: fetch's own errors repeat a URL's
 * `user:password@` and an invalid `Authorization` header, and a notifier logs them at every attempt.
 *
 * @example messageOf(new TypeError('cannot fetch http://admin:pw@127.0.0.1/x')) // 'cannot fetch http://[redacted]@127.0.0.1/x'
 */
export function messageOf(error: unknown): string {
  return redactCredentials(error instanceof Error ? error.message : String(error));
}
