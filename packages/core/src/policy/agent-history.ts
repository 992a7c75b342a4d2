import { rememberCall } from './call-history.js';
import type { CallHistoryLimits } from './call-history.js';
import type { AgentTaints } from './data-flow.js';
import { MAX_AGENT_SEQUENCE_WINDOW_MS, MAX_AGENT_VIOLATIONS } from './types.js';

/**
 * What the policy remembers about one agent across all of its sessions, for sequence conditions with
 * `after.across: agent`: tool name → epoch ms of the agent's latest call of it that was not blocked.
 *
 * Session history alone can be shaken off: the caller names the session, so an agent that sends every call under a
 * fresh session id never has an "earlier call". Agent-wide history follows the agent id instead.
 *
 * Unlike {@link SessionState} (a value the caller replaces), an agent history is updated in place with
 * {@link recordAgentCall}: it is shared by every session of the agent and touched on every call.
 */
export interface AgentHistory {
  readonly lastCallAt: Map<string, number>;
  /**
   * Epoch ms of the agent's violations, oldest first, at most {@link MAX_AGENT_VIOLATIONS} (the most recent): what
   * `progressive: { across: agent }` counts, so a fresh session id does not start the escalation over.
   */
  readonly violations: number[];
  /**
   * Values returned to the agent in any session, for data-flow rules with `across: agent` (not part of the
   * serialized form: each tool output's values are stored with the output; the server loads them when a policy
   * reads them). Absent: such rules see no value.
   */
  taints?: AgentTaints;
}

/** Most tools remembered per agent; the least recently called are forgotten first. */
export const DEFAULT_MAX_AGENT_HISTORY_TOOLS = 1_000;

/**
 * An agent nobody has seen yet.
 *
 * @example
 * const history = createAgentHistory();
 */
export function createAgentHistory(): AgentHistory {
  return { lastCallAt: new Map(), violations: [] };
}

/**
 * Records one evaluated call of the agent (in place). A violation is counted whatever the decision (as a session
 * counts it); a blocked call never ran, so its tool is not remembered, exactly as for session history. Keeps at most `maxTools` tools, forgetting the least recently called first, but a tool for
 * which `keep` is true (`CompiledPolicy.agentHistoryReads`: one that an agent-wide rule reads) only once no other
 * tool is left to forget: otherwise an agent could call `maxTools` harmless tools to push `read_customer` out of its
 * own history before e-mailing.
 *
 * @example
 * recordAgentCall(history, 'read_customer', Date.now(), { decision: 'ALLOW' }, { keep: policy.agentHistoryReads });
 */
export function recordAgentCall(
  history: AgentHistory,
  toolName: string,
  at: number,
  result: { readonly decision: string; readonly violation?: boolean },
  limits: CallHistoryLimits = {},
): void {
  if (result.violation === true) recordAgentViolation(history, at);
  if (result.decision === 'BLOCK') return;
  rememberCall(history.lastCallAt, toolName, at, limits.maxTools ?? DEFAULT_MAX_AGENT_HISTORY_TOOLS, limits.keep);
}

/**
 * Counts one violation of the agent at `at` (in place), keeping the {@link MAX_AGENT_VIOLATIONS} most recent. Times
 * may arrive slightly out of order (several replicas): the list stays sorted.
 *
 * @example
 * recordAgentViolation(history, Date.now());
 */
export function recordAgentViolation(history: AgentHistory, at: number): void {
  const list = history.violations;
  let index = list.length;
  while (index > 0 && list[index - 1]! > at) index -= 1;
  list.splice(index, 0, at);
  if (list.length > MAX_AGENT_VIOLATIONS) list.splice(0, list.length - MAX_AGENT_VIOLATIONS);
}

/**
 * The agent's violations at or after `since` (what agent-wide progressive escalation counts).
 *
 * @example
 * agentViolationsSince(history, Date.now() - 3_600_000) // violations in the last hour
 */
export function agentViolationsSince(history: { readonly violations: readonly number[] }, since: number): number {
  const list = history.violations;
  let count = 0;
  for (let i = list.length - 1; i >= 0 && list[i]! >= since; i -= 1) count += 1;
  return count;
}

/** JSON form of an agent history, for storage. */
export interface SerializedAgentHistory {
  readonly lastCallAt: ReadonlyArray<readonly [string, number]>;
  readonly violations?: readonly number[];
}

/**
 * Converts a history to plain JSON, leaving out calls older than the longest agent-wide window (30 days) before
 * `now`: no rule can read them.
 *
 * @example
 * JSON.stringify(serializeAgentHistory(history, Date.now()))
 */
export function serializeAgentHistory(history: AgentHistory, now: number): SerializedAgentHistory {
  const lastCallAt: Array<readonly [string, number]> = [];
  for (const entry of history.lastCallAt) {
    if (now - entry[1] <= MAX_AGENT_SEQUENCE_WINDOW_MS) lastCallAt.push(entry);
  }
  const violations = history.violations.filter((at) => now - at <= MAX_AGENT_SEQUENCE_WINDOW_MS);
  return violations.length > 0 ? { lastCallAt, violations } : { lastCallAt };
}

/**
 * Reads a stored history back; anything malformed yields an empty history rather than an exception.
 *
 * @example
 * const history = deserializeAgentHistory(JSON.parse(row.state));
 */
export function deserializeAgentHistory(value: unknown): AgentHistory {
  const history = createAgentHistory();
  const stored = typeof value === 'object' && value !== null ? (value as { lastCallAt?: unknown; violations?: unknown }) : {};
  if (Array.isArray(stored.violations)) {
    const times = stored.violations.filter((at): at is number => typeof at === 'number' && Number.isFinite(at)).sort((a, b) => a - b);
    history.violations.push(...times.slice(-MAX_AGENT_VIOLATIONS));
  }
  const entries = stored.lastCallAt;
  if (!Array.isArray(entries)) return history;
  for (const entry of entries) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number' && Number.isFinite(entry[1])) {
      history.lastCallAt.set(entry[0], entry[1]);
    }
  }
  return history;
}
