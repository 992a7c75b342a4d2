import type { Command } from 'commander';
import { runApprovalNotifier } from '../notify/approval-notifier.js';
import { runNotifyCommand, withNotifyFlags, type NotifyFlags } from './notify-shared.js';

/**
 * `tollgate approvals notify`: posts every approval that becomes pending to a webhook (see
 * `notify/approval-notifier.ts`), until interrupted.
 *
 * @example
 * registerApprovalsCommand(program);
 */
export function registerApprovalsCommand(program: Command): void {
  const approvals = program.command('approvals').description('Human approvals (step-up holds, permission requests)');
  withNotifyFlags(approvals.command('notify'), 'approvals')
    .description('Post each approval that becomes pending to a webhook (Slack-style { text } or JSON); runs until interrupted')
    .action((flags: NotifyFlags) => runNotifyCommand(flags, 'pending approvals', (start) => runApprovalNotifier(start)));
}
