import { escapeSlackMarkup, slackLiteral } from './slack-markup.js';
import { followStream, messageOf, parseJson, postWebhook, reconnecting, type NotifyFormat, type WebhookOptions } from './webhook.js';

export { NotifierAuthError, type NotifyFormat } from './webhook.js';

/** Options of {@link runApprovalNotifier}. */
export interface ApprovalNotifierOptions extends WebhookOptions {
  /** The Tollgate server, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** An API key with scope `approvals` (or `admin`). */
  readonly apiKey: string;
  /** Base URL of the dashboard the message links to (default: `url`). */
  readonly dashboardUrl?: string | undefined;
  readonly format?: NotifyFormat | undefined;
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

/**
 * Posts every approval that becomes pending (step-up holds, sandbox permission requests) to a webhook, so the
 * person on call hears of a waiting agent without watching the dashboard. Follows `GET /api/v1/approvals/stream`
 * and, at every (re)connection, lists what is pending, so approvals created while the notifier was down or
 * reconnecting are posted too. Each approval is posted once per run; a webhook that keeps failing is retried
 * with backoff and, after the last attempt, again at the next reconnection. Tool arguments are never sent (they
 * may hold customer data): the message links to the dashboard, where the approver sees the exact action.
 * Resolves when `signal` aborts; rejects with `NotifierAuthError` when the key is refused.
 *
 * @example
 * await runApprovalNotifier({ url: 'http://127.0.0.1:8787', apiKey, webhook: 'https://hooks.slack.com/services/…' });
 */
export async function runApprovalNotifier(options: ApprovalNotifierOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const notified = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  const headers = { authorization: `Bearer ${options.apiKey}` };
  const link = new URL('/approvals', options.dashboardUrl ?? options.url).href;
  // One listing covers every event that arrived before it starts: a burst of events costs one listing, not one each.
  let listingQueued = false;
  const enqueue = () => {
    if (listingQueued) return;
    listingQueued = true;
    chain = chain
      .then(() => {
        listingQueued = false;
        return notifyPending();
      })
      .catch((error: unknown) => log(`listing approvals failed: ${messageOf(error)}`));
  };

  const notifyPending = async (): Promise<void> => {
    const response = await fetch(new URL('/api/v1/approvals?status=pending', options.url), { headers, signal: options.signal ?? null });
    if (!response.ok) throw new Error(`GET /api/v1/approvals: HTTP ${response.status}`);
    const { items } = (await response.json()) as { items: PendingApproval[] };
    // Oldest first, so a backlog arrives in the order it built up.
    for (const item of [...items].reverse()) {
      if (notified.has(item.id)) continue;
      notified.add(item.id);
      const payload = options.format === 'json' ? jsonPayload(item, link) : { text: slackText(item, link) };
      if (await postWebhook(options, payload, item.id)) {
        log(`notified ${item.id} (${item.kind}, agent ${item.agentId ?? '?'}${item.toolName ? `, tool ${item.toolName}` : ''})`);
      } else {
        notified.delete(item.id); // tried again at the next (re)connection
      }
    }
  };

  try {
    await reconnecting({ baseMs: options.retryBaseMs ?? 500, signal: options.signal, log }, (connected) =>
      followStream(new URL('/api/v1/approvals/stream', options.url), headers, (event) => {
        if (event.event === 'connected') {
          connected();
          log('connected to the approvals stream');
          enqueue();
        } else if (event.event === 'approval') {
          const data = parseJson(event.data) as { id?: unknown; status?: unknown } | undefined;
          if (typeof data?.id === 'string' && data.status === 'pending' && !notified.has(data.id)) enqueue();
        }
      }, options.signal));
  } finally {
    await chain;
  }
}

/**
 * The Slack-style message of a pending approval: who waits, for what, why, until when, and where to decide. Every
 * value from the server (the agent id, tool name and reason an agent chose, the id) is shown literally, never as
 * markup: an agent must not be able to post `<!channel>` or a link of its own (see {@link slackLiteral}).
 *
 * @example
 * slackText({ kind: 'hold', id: 'hold_1', status: 'pending', agentId: 'bot', toolName: 'refund' }, 'http://127.0.0.1:8787/approvals');
 */
export function slackText(item: PendingApproval, link: string): string {
  const agent = slackLiteral(item.agentId ?? '?');
  const what = item.kind === 'permission_request'
    ? `Agent ${agent} asks for more permissions`
    : `Agent ${agent} waits for approval to call ${slackLiteral(item.toolName ?? '?')}`;
  const expires = item.expiresAt === null || item.expiresAt === undefined ? '' : ` Expires ${new Date(item.expiresAt).toISOString()}.`;
  return `${what}${item.reason ? `: ${slackLiteral(item.reason)}` : ''}.${expires} Review: ${escapeSlackMarkup(link)} (${slackLiteral(item.id)})`;
}

/** The `--format json` document: values as the server gave them, for a receiver that escapes them for its own medium. */
function jsonPayload(item: PendingApproval, link: string): Record<string, unknown> {
  return {
    type: 'approval.pending', kind: item.kind, id: item.id, agentId: item.agentId ?? null, toolName: item.toolName ?? null,
    reason: item.reason ?? null, createdAt: item.createdAt ?? null, expiresAt: item.expiresAt ?? null, url: link,
  };
}
