import { killSwitchKey } from '../kill-switch/kill-switch-service.js';

/** One execution in flight on this replica. */
export interface RunningExecution {
  tenantId: string;
  executionId: number;
  agentId: number;
  agentName: string;
  /** Set when a kill reached it, so the finished record carries the reason. */
  killReason: string | null;
}

/** Selects executions to kill: one agent (by id or name) of a tenant, a whole tenant, or every tenant. */
export interface KillTarget {
  tenantId?: string | null;
  agentId?: string | number | null;
}

/**
 * The executions running on this replica, so a kill-switch signal can find them.
 *
 * @example
 * const running = new RunningExecutions();
 * const entry = running.add({ tenantId: 't', executionId: 1, agentId: 2, agentName: 'a', killReason: null });
 * running.remove(entry);
 */
export class RunningExecutions {
  private readonly entries = new Set<RunningExecution>();

  add(entry: RunningExecution): RunningExecution {
    this.entries.add(entry);
    return entry;
  }

  remove(entry: RunningExecution): void {
    this.entries.delete(entry);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Executions matching the target; an agent matches by numeric id, or by name under {@link killSwitchKey} (the
   * same matching as the halt check: a kill sent as `Worker-Agent` reaches the running execution of `worker-agent`
   * that the switch refuses new runs of).
   */
  match(target: KillTarget): RunningExecution[] {
    const agent = target.agentId === undefined || target.agentId === null ? null : String(target.agentId);
    const key = agent === null ? null : killSwitchKey(agent);
    return [...this.entries].filter((entry) => {
      if (target.tenantId && entry.tenantId !== target.tenantId) return false;
      return agent === null || String(entry.agentId) === agent || killSwitchKey(entry.agentName) === key;
    });
  }
}
