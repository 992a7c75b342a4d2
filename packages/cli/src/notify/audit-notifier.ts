import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { escapeSlackMarkup, slackLiteral } from './slack-markup.js';
import { followStream, messageOf, parseJson, postWebhook, reconnecting, type NotifyFormat, type WebhookOptions } from './webhook.js';

/** Options of {@link runAuditNotifier}. */
export interface AuditNotifierOptions extends WebhookOptions {
  /** The Tollgate server, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** An API key with scope `audit:read` (or `admin`). */
  readonly apiKey: string;
  readonly format?: NotifyFormat | undefined;
  /**
   * Which records are posted: `undefined` = violations and kill-switch records (the default alert set); otherwise
   * the listed record types (`enforcement.violation`, `kill_switch.engaged`, `sandbox.kill`, …; `*` for all).
   */
  readonly types?: readonly string[] | undefined;
  /**
   * A file holding the ledger index of the last record handled. With it, a restarted notifier resumes right after
   * that record (nothing recorded while it was down is missed, nothing is posted twice); without it, it starts
   * with the records committed after it connects.
   */
  readonly stateFile?: string | undefined;
  /** Base URL of the dashboard the message links to (default: `url`). */
  readonly dashboardUrl?: string | undefined;
}

/** The fields of an `audit` event the notifier reads (`GET /api/sdk/audit/stream`). */
export interface AuditEvent {
  index: number;
  type: string;
  agent_id?: string | null;
  sessionId?: string | null;
  execution_id?: string | number | null;
  is_violation?: boolean;
  description?: string;
  recorded_at?: string | number;
}

/** Record types posted by default besides violations. */
export const DEFAULT_ALERT_TYPES: readonly string[] = ['kill_switch.engaged', 'kill_switch.released', 'sandbox.kill'];

/**
 * Posts audit records worth an alert (by default every violation and kill-switch change) to a webhook as they are
 * recorded. Follows `GET /api/sdk/audit/stream` and reconnects with `Last-Event-ID`, which the server resumes at
 * the next ledger index without gap or duplicate; with `stateFile`, across restarts too. Records are handled in
 * ledger order; a record whose webhook fails every attempt is logged and skipped (the ledger keeps it). Only the
 * record's type, agent, session, index and one-line description are sent, never its data.
 *
 * @example
 * await runAuditNotifier({ url: 'http://127.0.0.1:8787', apiKey, webhook, stateFile: './data/audit-notify.state' });
 */
export async function runAuditNotifier(options: AuditNotifierOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const headers = { authorization: `Bearer ${options.apiKey}` };
  const link = new URL('/audit', options.dashboardUrl ?? options.url).href;
  let last = readState(options.stateFile);
  let chain: Promise<void> = Promise.resolve();
  const wanted = (record: AuditEvent) =>
    options.types === undefined
      ? record.is_violation === true || DEFAULT_ALERT_TYPES.includes(record.type)
      : options.types.includes('*') || options.types.includes(record.type);

  const handle = async (record: AuditEvent): Promise<void> => {
    if (last !== undefined && record.index <= last) return;
    if (wanted(record)) {
      const payload = options.format === 'json' ? jsonPayload(record, link) : { text: slackText(record, link) };
      if (await postWebhook(options, payload, `record ${record.index}`)) log(`notified record ${record.index} (${record.type})`);
      else log(`gave up on record ${record.index} (${record.type}); it stays in the ledger`);
    }
    last = record.index;
    writeState(options.stateFile, record.index);
  };

  try {
    await reconnecting({ baseMs: options.retryBaseMs ?? 500, signal: options.signal, log }, async (connected) => {
      // Everything received so far is handled before resuming after it.
      await chain;
      const streamHeaders: Record<string, string> = { ...headers };
      if (last !== undefined) streamHeaders['last-event-id'] = String(last);
      await followStream(new URL('/api/sdk/audit/stream', options.url), streamHeaders, (event) => {
        if (event.event === 'connected') {
          connected();
          log(`connected to the audit stream${last === undefined ? '' : ` (resuming after ledger #${last})`}`);
        }
        if (event.event !== 'audit') return;
        const record = parseJson(event.data) as AuditEvent | undefined;
        if (!record || typeof record.index !== 'number') return;
        chain = chain.then(() => handle(record)).catch((error: unknown) => log(`record ${record.index}: ${messageOf(error)}`));
      }, options.signal);
    });
  } finally {
    await chain;
  }
}

/**
 * The Slack-style message of an audit record. Every value from the record (the agent id and session an agent chose,
 * the description, which quotes its tool name) is shown literally, never as markup (see {@link slackLiteral}).
 *
 * @example
 * slackText({ index: 7, type: 'enforcement.violation', agent_id: 'bot', description: 'BLOCK send_email' }, 'http://127.0.0.1:8787/audit');
 */
export function slackText(record: AuditEvent, link: string): string {
  const who = record.agent_id ? ` agent ${slackLiteral(record.agent_id)}` : '';
  const what = record.is_violation ? 'Violation' : record.type.startsWith('kill_switch.') || record.type === 'sandbox.kill' ? 'Kill switch' : 'Audit';
  const session = record.sessionId ? `, session ${slackLiteral(record.sessionId)}` : '';
  return `${what}:${who} ${slackLiteral(record.description ?? record.type)} (${slackLiteral(record.type)}, ledger #${record.index}${session}). ${escapeSlackMarkup(link)}`;
}

/** The `--format json` document: values as the server gave them, for a receiver that escapes them for its own medium. */
function jsonPayload(record: AuditEvent, link: string): Record<string, unknown> {
  return {
    type: 'audit.record', index: record.index, recordType: record.type, agentId: record.agent_id ?? null, sessionId: record.sessionId ?? null,
    executionId: record.execution_id ?? null, isViolation: record.is_violation === true, description: record.description ?? null,
    recordedAt: record.recorded_at ?? null, url: link,
  };
}

function readState(file: string | undefined): number | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined; // first run
  }
  const index = Number(text);
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`${file} does not hold a ledger index (found ${JSON.stringify(text.slice(0, 40))})`);
  return index;
}

/** Written to a temporary file and renamed over the old one, so a crash never leaves half a number. */
function writeState(file: string | undefined, index: number): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${index}\n`);
  renameSync(`${file}.tmp`, file);
}
