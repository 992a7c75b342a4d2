import { TollgateError } from '@tollgate/core';
import type { SandboxExecutionRepository } from '../../store/repositories/sandbox-executions.js';
import type { LedgerAppend } from '../vault/credential-service.js';

const HOUR_MS = 3_600_000;

export interface ExecutionQuotaDeps {
  executions: Pick<SandboxExecutionRepository, 'nthNewest'>;
  /** Executions an agent may start per rolling hour; 0 = unlimited. */
  perHour: number;
  now: () => number;
  appendLedger?: LedgerAppend | undefined;
}

/**
 * Per-agent quota of executions per rolling hour, counted from the stored executions (so it survives a restart and
 * is shared by replicas on one PostgreSQL): the agent is over quota when its `perHour`-th newest execution started
 * less than an hour ago. `admit` runs the check and the caller's insert under one per-agent lock, so concurrent
 * requests on one replica cannot overshoot; replicas racing each other can, by at most one run each.
 *
 * @example
 * const quota = new ExecutionQuota({ executions: store.sandboxExecutions, perHour: 10, now: Date.now });
 * const started = await quota.admit('acme', { id: 7, name: 'bot' }, () => store.sandboxExecutions.start(row));
 */
export class ExecutionQuota {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Oldest execution inside the window at the last recorded refusal, per agent: one ledger record per stretch. */
  private readonly recorded = new Map<string, number>();

  constructor(private readonly deps: ExecutionQuotaDeps) {}

  /** Runs `start` if the agent is under quota; otherwise records `rate_limit_hit` and throws 429 `RATE_LIMITED`. */
  async admit<T>(tenantId: string, agent: { id: number; name: string }, actor: string | null, start: () => Promise<T>): Promise<T> {
    if (this.deps.perHour <= 0) return start();
    const key = `${tenantId}\u0000${agent.id}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const turn = previous.then(async () => {
      await this.check(tenantId, agent, actor);
      return start();
    });
    const settled = turn.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await turn;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  private async check(tenantId: string, agent: { id: number; name: string }, actor: string | null): Promise<void> {
    const { perHour } = this.deps;
    const now = this.deps.now();
    // No count of the agent's executions on every start (that grew with the agent's history): one index lookup.
    const oldestInWindow = await this.deps.executions.nthNewest(tenantId, agent.id, perHour);
    if (!oldestInWindow || oldestInWindow.startedAt <= now - HOUR_MS) return;
    const retryAfter = Math.max(1, Math.ceil((oldestInWindow.startedAt + HOUR_MS - now) / 1000));
    const message = `agent ${agent.id} reached its quota of ${perHour} executions per hour; retry after ${retryAfter} s`;
    await this.record(tenantId, agent, actor, oldestInWindow.id, { perHour, retryAfter, message });
    throw new TollgateError('RATE_LIMITED', message, {
      details: { limit: 'executions_per_hour', quota: perHour, windowSeconds: HOUR_MS / 1000, retryAfter, agentId: agent.id },
    });
  }

  private async record(
    tenantId: string, agent: { id: number; name: string }, actor: string | null, oldestId: number,
    hit: { perHour: number; retryAfter: number; message: string },
  ): Promise<void> {
    const key = `${tenantId}\u0000${agent.id}`;
    // Every refusal answers 429, but one record per blocked stretch keeps a retry loop from flooding the ledger.
    if (!this.deps.appendLedger || this.recorded.get(key) === oldestId) return;
    this.recorded.set(key, oldestId);
    await this.deps.appendLedger(tenantId, {
      type: 'rate_limit_hit', actor, agentId: String(agent.id), executionId: null, isViolation: true,
      data: {
        description: `rate_limit_hit executions_per_hour: ${hit.message}`, limit: 'executions_per_hour', quota: hit.perHour,
        window_seconds: HOUR_MS / 1000, retry_after_seconds: hit.retryAfter, agent_name: agent.name,
      },
    });
  }
}
