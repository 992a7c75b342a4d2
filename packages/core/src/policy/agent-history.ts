import { rememberCall } from './call-history.js';
import type { CallHistoryLimits } from './call-history.js';
import { MAX_AGENT_SEQUENCE_WINDOW_MS } from './types.js';

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
  return { lastCallAt: new Map() };
}

/**
 * Records one evaluated call of the agent (in place). A blocked call never ran, so it is not remembered, exactly as
 * for session history. Keeps at most `maxTools` tools, forgetting the least recently called first, but a tool for
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
  result: { readonly decision: string },
  limits: CallHistoryLimits = {},
): void {
  if (result.decision === 'BLOCK') return;
  rememberCall(history.lastCallAt, toolName, at, limits.maxTools ?? DEFAULT_MAX_AGENT_HISTORY_TOOLS, limits.keep);
}

/** JSON form of an agent history, for storage. */
export interface SerializedAgentHistory {
  readonly lastCallAt: ReadonlyArray<readonly [string, number]>;
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
  return { lastCallAt };
}

/**
 * Reads a stored history back; anything malformed yields an empty history rather than an exception.
 *
 * @example
 * const history = deserializeAgentHistory(JSON.parse(row.state));
 */
export function deserializeAgentHistory(value: unknown): AgentHistory {
  const history = createAgentHistory();
  const entries = typeof value === 'object' && value !== null ? (value as { lastCallAt?: unknown }).lastCallAt : undefined;
  if (!Array.isArray(entries)) return history;
  for (const entry of entries) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number' && Number.isFinite(entry[1])) {
      history.lastCallAt.set(entry[0], entry[1]);
    }
  }
  return history;
}
