import type { Command } from 'commander';
import { TollgateError } from '@tollgate/core';
import { NotifierAuthError, runApprovalNotifier, type NotifyFormat } from '../notify/approval-notifier.js';
import { print } from './shared.js';

interface NotifyFlags {
  url: string;
  webhook: string;
  apiKey?: string;
  dashboardUrl?: string;
  format: string;
}

const FORMATS: readonly NotifyFormat[] = ['slack', 'json'];

/**
 * `tollgate approvals notify`: posts every approval that becomes pending to a webhook (see
 * `notify/approval-notifier.ts`), until interrupted.
 *
 * @example
 * registerApprovalsCommand(program);
 */
export function registerApprovalsCommand(program: Command): void {
  const approvals = program.command('approvals').description('Human approvals (step-up holds, permission requests)');
  approvals
    .command('notify')
    .description('Post each approval that becomes pending to a webhook (Slack-style { text } or JSON); runs until interrupted')
    .requiredOption('--webhook <url>', 'where to POST (e.g. a Slack incoming webhook)')
    .option('--url <url>', 'the Tollgate server', 'http://127.0.0.1:8787')
    .option('--api-key <key>', 'API key with scope approvals (default: env TOLLGATE_API_KEY, which keeps it out of the process list)')
    .option('--dashboard-url <url>', 'base URL of the dashboard the message links to (default: --url)')
    .option('--format <format>', 'slack | json', 'slack')
    .action(async (flags: NotifyFlags) => {
      const apiKey = flags.apiKey ?? process.env.TOLLGATE_API_KEY;
      if (!apiKey) throw new TollgateError('VALIDATION_FAILED', 'an API key with scope approvals is needed: set TOLLGATE_API_KEY or pass --api-key');
      if (!FORMATS.includes(flags.format as NotifyFormat)) throw new TollgateError('VALIDATION_FAILED', `--format must be one of ${FORMATS.join(', ')}`);
      for (const [flag, value] of [['--url', flags.url], ['--webhook', flags.webhook], ['--dashboard-url', flags.dashboardUrl]] as const) {
        if (value !== undefined && !/^https?:\/\//i.test(value)) throw new TollgateError('VALIDATION_FAILED', `${flag} must be an http(s) URL`);
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      print(`posting pending approvals of ${flags.url} to ${new URL(flags.webhook).origin} (Ctrl-C to stop)`);
      try {
        await runApprovalNotifier({
          url: flags.url, apiKey, webhook: flags.webhook, dashboardUrl: flags.dashboardUrl, format: flags.format as NotifyFormat,
          secret: process.env.TOLLGATE_WEBHOOK_SECRET, signal: controller.signal, log: (line) => print(line),
        });
      } catch (error) {
        if (error instanceof NotifierAuthError) throw new TollgateError('UNAUTHENTICATED', `approvals notify: ${error.message}`);
        throw error;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
