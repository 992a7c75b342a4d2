import { redactSecrets } from '@tollgate/core';
import type { Bus } from '../bus.js';
import type { LedgerAppend } from '../vault/credential-service.js';
import type { SandboxRuntime } from './execution-service.js';
import type { RunningExecutions } from './running-executions.js';

/** Bus channel the enforcement area publishes kill-switch changes on. */
export const KILL_CHANNEL = 'kill';

/**
 * Kill-switch message as read here. Tolerant by design: `agentId` absent (or `global: true` / `scope: 'global'`)
 * means every agent of the tenant; `halted: false` is a resume and kills nothing.
 */
export interface KillSignal {
  tenantId?: string | null;
  agentId?: string | number | null;
  global?: boolean;
  scope?: string;
  halted?: boolean;
  reason?: string | null;
  actor?: string | null;
}

/**
 * Subscribes to kill-switch signals and terminates matching executions on this replica at once through the
 * runtime's `kill`. The reason is kept on the running entry (it ends up in the execution record) and appended
 * to the ledger as `sandbox.kill`. Returns the unsubscribe function.
 *
 * @example
 * const stop = listenForKills({ bus, runtime, running, appendLedger });
 */
export function listenForKills(deps: { bus: Bus; runtime: SandboxRuntime; running: RunningExecutions; appendLedger?: LedgerAppend | undefined; onError?: (error: unknown) => void }): () => void {
  return deps.bus.subscribe(KILL_CHANNEL, (payload) => {
    const signal = (payload ?? {}) as KillSignal;
    if (signal.halted === false) return;
    const isGlobal = signal.global === true || signal.scope === 'global';
    const targets = deps.running.match({ tenantId: signal.tenantId ?? null, agentId: isGlobal ? null : (signal.agentId ?? null) });
    // The reason is free text from an operator; it lands in execution rows and the ledger, so it is masked too.
    const reason = redactSecrets(signal.reason || (isGlobal ? 'global kill switch' : 'agent kill switch'));
    for (const entry of targets) {
      entry.killReason = reason;
      deps.runtime.kill(entry.executionId, reason);
      void deps.appendLedger?.(entry.tenantId, {
        type: 'sandbox.kill', actor: signal.actor ?? null, agentId: String(entry.agentId), executionId: String(entry.executionId),
        isViolation: false, data: { reason, scope: isGlobal ? 'global' : 'agent' },
      }).catch((error: unknown) => deps.onError?.(error));
    }
  });
}
