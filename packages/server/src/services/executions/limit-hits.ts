import type { SandboxViolation } from '@tollgate/sandbox';

/** A ledger entry (without tenant, agent and execution) recording that a run hit a rate limit or quota. */
export interface LimitHitEntry {
  type: 'rate_limit_hit' | 'sandbox_limit_hit';
  isViolation: true;
  data: { description: string; limit: string; count: number; first_t_ms: number; functions: string[] };
}

const LIMIT_OF: Partial<Record<SandboxViolation['kind'], (violation: SandboxViolation) => string>> = {
  rate_limit_hit: () => 'max_api_calls_per_minute',
  quota_exceeded: () => 'max_api_calls_per_run',
  sandbox_limit_hit: (violation) => violation.reason,
};

/**
 * The seed's quota events for one run: `rate_limit_hit` for the per-minute API-call rate, `sandbox_limit_hit` for
 * the per-run API-call quota and the runtime's limits (timeout, memory, stack, host calls), one entry per limit
 * with a count (a guest retrying in a loop adds to the count, not to the ledger). Other violations (permission,
 * network, domain) are already `sandbox.host_call` records.
 *
 * @example
 * limitHitEntries([{ kind: 'rate_limit_hit', fn: 'read_context', reason: 'rate_limited', t_ms: 3 }])[0].type; // 'rate_limit_hit'
 */
export function limitHitEntries(violations: readonly SandboxViolation[]): LimitHitEntry[] {
  const byLimit = new Map<string, LimitHitEntry>();
  for (const violation of violations) {
    const limitOf = LIMIT_OF[violation.kind];
    if (!limitOf) continue;
    const type = violation.kind === 'rate_limit_hit' ? 'rate_limit_hit' : 'sandbox_limit_hit';
    const limit = limitOf(violation);
    const key = `${type}:${limit}`;
    const entry = byLimit.get(key) ?? { type, isViolation: true as const, data: { description: `${type} ${limit}`, limit, count: 0, first_t_ms: violation.t_ms, functions: [] } };
    entry.data.count += 1;
    entry.data.first_t_ms = Math.min(entry.data.first_t_ms, violation.t_ms);
    if (violation.fn !== undefined && !entry.data.functions.includes(violation.fn)) entry.data.functions.push(violation.fn);
    byLimit.set(key, entry);
  }
  return [...byLimit.values()];
}
