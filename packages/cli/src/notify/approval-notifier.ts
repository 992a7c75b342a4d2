import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** How a pending approval is posted: Slack-style `{ text }` (Slack, Mattermost, Teams workflows) or the item as JSON. */
export type NotifyFormat = 'slack' | 'json';

/** Options of {@link runApprovalNotifier}. */
export interface ApprovalNotifierOptions {
  /** The Tollgate server, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** An API key with scope `approvals` (or `admin`). */
  readonly apiKey: string;
  /** Where each pending approval is POSTed. */
  readonly webhook: string;
  /** Base URL of the dashboard the message links to (default: `url`). */
  readonly dashboardUrl?: string | undefined;
  readonly format?: NotifyFormat | undefined;
  /** With it, each POST carries `X-Tollgate-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  readonly secret?: string | undefined;
  /** Stops the notifier (it then resolves). */
  readonly signal?: AbortSignal | undefined;
  /** One line per notification, reconnection and failure (default: none). */
  readonly log?: ((line: string) => void) | undefined;
  /** Webhook attempts per approval (default 5), 0.5 s, 1 s, 2 s, … apart; stream reconnects back off from 0.5 s to 30 s. */
  readonly attempts?: number | undefined;
  readonly retryBaseMs?: number | undefined;
}

/** The approval fields the notifier uses (`GET /api/v1/approvals`). */
export interface PendingApproval {
  kind: string;
  id: string;
  status: string;
  agentId?: string | null;
  toolName?: string | null;
  reason?: string | null;
  createdAt?: string | number | null;
  expiresAt?: string | number | null;
}

/** The key was refused (revoked, expired, lacking the scope): reconnecting cannot help. */
export class NotifierAuthError extends Error {}

const MAX_RECONNECT_MS = 30_000;
const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Posts every approval that becomes pending (step-up holds, sandbox permission requests) to a webhook, so the
 * person on call hears of a waiting agent without watching the dashboard. Follows `GET /api/v1/approvals/stream`
 * and, at every (re)connection, lists what is pending, so approvals created while the notifier was down or
 * reconnecting are posted too. Each approval is posted once per run; a webhook that keeps failing is retried
 * with backoff and, after the last attempt, again at the next reconnection. Tool arguments are never sent (they
 * may hold customer data): the message links to the dashboard, where the approver sees the exact action.
 * Resolves when `signal` aborts; rejects with {@link NotifierAuthError} when the key is refused.
 *
 * @example
 * await runApprovalNotifier({ url: 'http://127.0.0.1:8787', apiKey, webhook: 'https://hooks.slack.com/services/…' });
 */
export async function runApprovalNotifier(options: ApprovalNotifierOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const base = options.retryBaseMs ?? 500;
  const notified = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  const headers = { authorization: `Bearer ${options.apiKey}` };
  const enqueue = (ids: readonly string[]) => {
    chain = chain.then(() => notifyPending(ids)).catch((error: unknown) => log(`listing approvals failed: ${messageOf(error)}`));
  };

  const notifyPending = async (only: readonly string[] | undefined): Promise<void> => {
    const response = await fetch(new URL('/api/v1/approvals?status=pending', options.url), { headers, signal: options.signal ?? null });
    if (response.status === 401 || response.status === 403) throw new NotifierAuthError(`the server refused the key (HTTP ${response.status})`);
    if (!response.ok) throw new Error(`GET /api/v1/approvals: HTTP ${response.status}`);
    const { items } = (await response.json()) as { items: PendingApproval[] };
    // Oldest first, so a backlog arrives in the order it built up.
    for (const item of [...items].reverse()) {
      if (notified.has(item.id) || (only && only.length > 0 && !only.includes(item.id))) continue;
      notified.add(item.id);
      if (!(await post(item))) notified.delete(item.id); // tried again at the next (re)connection
    }
  };

  const post = async (item: PendingApproval): Promise<boolean> => {
    const body = JSON.stringify(options.format === 'json' ? jsonPayload(item, dashboardUrl(options)) : { text: slackText(item, dashboardUrl(options)) });
    const postHeaders: Record<string, string> = { 'content-type': 'application/json' };
    if (options.secret) postHeaders['x-tollgate-signature'] = `sha256=${createHmac('sha256', options.secret).update(body).digest('hex')}`;
    const attempts = Math.max(1, options.attempts ?? 5);
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (options.signal?.aborted) return false;
      try {
        const response = await fetch(options.webhook, { method: 'POST', headers: postHeaders, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
        await response.body?.cancel();
        if (response.ok) {
          log(`notified ${item.id} (${item.kind}, agent ${item.agentId ?? '?'}${item.toolName ? `, tool ${item.toolName}` : ''})`);
          return true;
        }
        log(`webhook answered HTTP ${response.status} for ${item.id} (attempt ${attempt} of ${attempts})`);
      } catch (error) {
        log(`webhook failed for ${item.id}: ${messageOf(error)} (attempt ${attempt} of ${attempts})`);
      }
      if (attempt < attempts) await sleep(base * 2 ** (attempt - 1), undefined, { signal: options.signal }).catch(() => undefined);
    }
    return false;
  };

  let delay = base;
  while (!options.signal?.aborted) {
    try {
      await follow(options, headers, {
        connected: () => {
          delay = base;
          enqueue([]);
        },
        pending: (id) => enqueue([id]),
      });
      log('approval stream ended; reconnecting');
    } catch (error) {
      if (error instanceof NotifierAuthError) throw error;
      if (options.signal?.aborted) break;
      log(`approval stream failed: ${messageOf(error)}; reconnecting in ${delay} ms`);
    }
    await chain;
    await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    delay = Math.min(delay * 2, MAX_RECONNECT_MS);
  }
  await chain;
}

/** Reads the approvals stream until it ends, calling back on connection and on each item that became pending. */
async function follow(
  options: ApprovalNotifierOptions,
  headers: Record<string, string>,
  on: { connected: () => void; pending: (id: string) => void },
): Promise<void> {
  const response = await fetch(new URL('/api/v1/approvals/stream', options.url), { headers: { ...headers, accept: 'text/event-stream' }, signal: options.signal ?? null });
  if (response.status === 401 || response.status === 403) throw new NotifierAuthError(`the server refused the key (HTTP ${response.status})`);
  if (!response.ok || !response.body) throw new Error(`GET /api/v1/approvals/stream: HTTP ${response.status}`);
  let refused: NotifierAuthError | undefined;
  const parser = createParser({
    onEvent: (event: EventSourceMessage) => {
      if (event.event === 'connected') on.connected();
      else if (event.event === 'approval') {
        const data = parseJson(event.data) as { id?: unknown; status?: unknown } | undefined;
        if (typeof data?.id === 'string' && data.status === 'pending') on.pending(data.id);
      } else if (event.event === 'error') {
        const data = parseJson(event.data) as { code?: unknown; message?: unknown } | undefined;
        if (data?.code === 'UNAUTHENTICATED') refused = new NotifierAuthError(String(data.message ?? 'the key no longer stands'));
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (refused) throw refused;
  }
}

function dashboardUrl(options: ApprovalNotifierOptions): string {
  return new URL('/approvals', options.dashboardUrl ?? options.url).href;
}

/**
 * The Slack-style message of a pending approval: who waits, for what, why, until when, and where to decide.
 *
 * @example
 * slackText({ kind: 'hold', id: 'hold_1', status: 'pending', agentId: 'bot', toolName: 'refund' }, 'http://127.0.0.1:8787/approvals');
 */
export function slackText(item: PendingApproval, link: string): string {
  const what = item.kind === 'permission_request'
    ? `Agent *${item.agentId ?? '?'}* asks for more permissions`
    : `Agent *${item.agentId ?? '?'}* waits for approval to call *${item.toolName ?? '?'}*`;
  const expires = item.expiresAt === null || item.expiresAt === undefined ? '' : ` Expires ${new Date(item.expiresAt).toISOString()}.`;
  return `${what}${item.reason ? `: ${item.reason}` : ''}.${expires} Review: ${link} (${item.id})`;
}

function jsonPayload(item: PendingApproval, link: string): Record<string, unknown> {
  return {
    type: 'approval.pending', kind: item.kind, id: item.id, agentId: item.agentId ?? null, toolName: item.toolName ?? null,
    reason: item.reason ?? null, createdAt: item.createdAt ?? null, expiresAt: item.expiresAt ?? null, url: link,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
