import type { Command } from 'commander';
import { TollgateError } from '@tollgate/core';
import { NotifierAuthError, type NotifyFormat } from '../notify/webhook.js';
import { redactCredentials } from '../credential-redaction.js';
import { printableText } from '../printable-text.js';
import { checkApiKey, print, urlFlag } from './shared.js';

/** Flags every `… notify` command has. */
export interface NotifyFlags {
  url: string;
  webhook: string;
  apiKey?: string;
  dashboardUrl?: string;
  format: string;
}

/** What a notify command hands its notifier. */
export interface NotifierStart {
  url: string;
  apiKey: string;
  webhook: string;
  dashboardUrl: string | undefined;
  format: NotifyFormat;
  secret: string | undefined;
  signal: AbortSignal;
  log: (line: string) => void;
}

const FORMATS: readonly NotifyFormat[] = ['slack', 'json'];

/**
 * Adds the flags of a notify command (`--webhook`, `--url`, `--api-key`, `--dashboard-url`, `--format`).
 *
 * @example
 * withNotifyFlags(approvals.command('notify'), 'approvals');
 */
export function withNotifyFlags(command: Command, scope: string): Command {
  return command
    .requiredOption('--webhook <url>', 'where to POST (e.g. a Slack incoming webhook); env TOLLGATE_WEBHOOK_SECRET signs each POST', urlFlag('--webhook'))
    .option('--url <url>', 'the Tollgate server', urlFlag('--url'), 'http://127.0.0.1:8787')
    .option('--api-key <key>', `API key with scope ${scope} (default: env TOLLGATE_API_KEY, which keeps it out of the process list)`)
    .option('--dashboard-url <url>', 'base URL of the dashboard the message links to (default: --url)', urlFlag('--dashboard-url'))
    .option('--format <format>', 'slack | json', 'slack');
}

/**
 * Checks the flags, then runs `notifier` until Ctrl-C or SIGTERM. A refused key ends it with exit code 1.
 *
 * @example
 * await runNotifyCommand(flags, 'approvals', (start) => runApprovalNotifier(start));
 */
export async function runNotifyCommand(flags: NotifyFlags, what: string, notifier: (start: NotifierStart) => Promise<void>): Promise<void> {
  // The URL flags are checked as they are read (urlFlag in withNotifyFlags).
  const apiKey = flags.apiKey ?? process.env.TOLLGATE_API_KEY;
  if (!apiKey) throw new TollgateError('VALIDATION_FAILED', 'an API key is needed: set TOLLGATE_API_KEY or pass --api-key');
  checkApiKey(apiKey, flags.apiKey === undefined ? 'env TOLLGATE_API_KEY' : '--api-key');
  if (!FORMATS.includes(flags.format as NotifyFormat)) throw new TollgateError('VALIDATION_FAILED', `--format must be one of ${FORMATS.join(', ')}`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  print(`posting ${what} of ${flags.url} to ${new URL(flags.webhook).origin} (Ctrl-C to stop)`);
  try {
    await notifier({
      url: flags.url, apiKey, webhook: flags.webhook, dashboardUrl: flags.dashboardUrl, format: flags.format as NotifyFormat,
      secret: process.env.TOLLGATE_WEBHOOK_SECRET, signal: controller.signal, log: (line) => print(logLine(line)),
    });
  } catch (error) {
    if (error instanceof NotifierAuthError) throw new TollgateError('UNAUTHENTICATED', `${what}: ${logLine(error.message)}`);
    throw error;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * A notifier's log line as the terminal gets it: one line, control characters visible (it quotes agent ids, tool
 * names and the server's messages) and credentials redacted (it quotes fetch's errors, every reconnection).
 */
function logLine(line: string): string {
  return printableText(redactCredentials(line));
}
