import { rememberCall } from './call-history.js';
import type { CallHistoryLimits } from './call-history.js';
import type { TaintEntry } from './data-flow.js';

/**
 * What the policy remembers about one session between calls. Evaluation reads it and never
 * changes it; the caller applies `recordCall` / `recordTaints` and persists the result.
 */
export interface SessionState {
  /** Calls evaluated in this session. */
  readonly callCount: number;
  /** Violations so far (drives progressive mode). */
  readonly violations: number;
  /** Tool name → epoch ms of its latest call that was not blocked (drives sequence rules). */
  readonly lastCallAt: ReadonlyMap<string, number>;
  /** Fingerprint of a sensitive value → labels of the sources that returned it (drives data-flow rules). */
  readonly taints: ReadonlyMap<string, readonly string[]>;
  /** Word counts of remembered values, so a scan only tries those run lengths. */
  readonly windowSizes: ReadonlySet<number>;
  /**
   * True once values were dropped for space (more than the session's bound were returned): its data-flow rules can
   * no longer be sure and fail closed for the rest of the session.
   */
  readonly taintsDropped?: boolean;
}

/** Oldest remembered values are dropped past this many per session. */
export const DEFAULT_MAX_TAINTS_PER_SESSION = 10_000;

/**
 * A session nobody has seen yet.
 *
 * @example
 * const state = createSessionState();
 */
export function createSessionState(): SessionState {
  return { callCount: 0, violations: 0, lastCallAt: new Map(), taints: new Map(), windowSizes: new Set() };
}

/**
 * Most tools a session remembers for sequence rules; the least recently called are forgotten first (tools a
 * session-scoped sequence rule names last). Without a bound, a caller sending every call of one session under a new
 * tool name (in observe mode every call is allowed) made each call copy a growing map: 20,000 tools cost 22 s of CPU
 * and 2.4 ms per further call, for every tenant of the server.
 */
export const DEFAULT_MAX_TOOLS_PER_SESSION = 1_000;

/**
 * Applies one evaluated call to the session: counts it, counts a violation, and remembers the
 * tool for sequence rules unless the call was blocked (a blocked call never ran). Pass the active policy's
 * `sessionHistoryReads` as `keep` (see {@link CallHistoryLimits}).
 *
 * @example
 * state = recordCall(state, 'read_customer', Date.now(), { decision: 'ALLOW', violation: false }, { keep: policy.sessionHistoryReads });
 */
export function recordCall(
  state: SessionState,
  toolName: string,
  at: number,
  result: { readonly decision: string; readonly violation: boolean },
  limits: CallHistoryLimits = {},
): SessionState {
  // A blocked call leaves the last-call map alone, so only a remembered call needs its own copy.
  const own = result.decision === 'BLOCK' ? state : { ...state, lastCallAt: new Map(state.lastCallAt) };
  return recordCallInPlace(own, toolName, at, result, limits);
}

/**
 * {@link recordCall} for a state nobody else holds (the server's cached session, updated one call at a time): the
 * last-call map is updated in place instead of copied; the returned state shares it with `state`.
 *
 * @example
 * entry.state = recordCallInPlace(entry.state, 'read_customer', Date.now(), { decision: 'ALLOW', violation: false });
 */
export function recordCallInPlace(
  state: SessionState,
  toolName: string,
  at: number,
  result: { readonly decision: string; readonly violation: boolean },
  limits: CallHistoryLimits = {},
): SessionState {
  if (result.decision !== 'BLOCK') {
    rememberCall(state.lastCallAt as Map<string, number>, toolName, at, limits.maxTools ?? DEFAULT_MAX_TOOLS_PER_SESSION, limits.keep);
  }
  return { ...state, callCount: state.callCount + 1, violations: state.violations + (result.violation ? 1 : 0) };
}

/**
 * Adds fingerprints of sensitive values returned by a tool, keeping at most `maxTaints`.
 *
 * @example
 * state = recordTaints(state, [{ fingerprint: 'ab12…', words: 1 }], 'customer_pii');
 */
export function recordTaints(
  state: SessionState,
  entries: readonly TaintEntry[],
  label: string,
  maxTaints = DEFAULT_MAX_TAINTS_PER_SESSION,
): SessionState {
  return recordLabeledTaints(state, entries.map((entry) => ({ ...entry, labels: [label] })), maxTaints);
}

/** A remembered value with the labels of the sources that returned it. */
export type LabeledTaintEntry = TaintEntry & { readonly labels: readonly string[] };

/**
 * Like recordTaints, with each entry's own labels, so several data-flow sources are recorded in one pass.
 *
 * @example
 * state = recordLabeledTaints(state, [{ fingerprint: 'ab12…', words: 1, labels: ['customer_pii', 'secret'] }]);
 */
export function recordLabeledTaints(
  state: SessionState,
  entries: readonly LabeledTaintEntry[],
  maxTaints = DEFAULT_MAX_TAINTS_PER_SESSION,
): SessionState {
  if (entries.length === 0) return state;
  const taints = new Map(state.taints);
  const windowSizes = new Set(state.windowSizes);
  const dropped = addTaints(taints, windowSizes, entries, maxTaints).dropped;
  return { ...state, taints, windowSizes, ...(dropped || state.taintsDropped ? { taintsDropped: true } : {}) };
}

/**
 * {@link recordLabeledTaints} without the copy: adds to `state`'s own maps and returns the fingerprints whose labels
 * changed (new ones included), as `[fingerprint, labels]`. Only for a state nobody else holds (the server's cached
 * session, updated one call at a time): copying a full session's 10,000 values on every output cost ~1.7 ms.
 *
 * @example
 * const added = recordLabeledTaintsInPlace(entry.state, entries);
 */
export function recordLabeledTaintsInPlace(
  state: SessionState,
  entries: readonly LabeledTaintEntry[],
  maxTaints = DEFAULT_MAX_TAINTS_PER_SESSION,
): Array<[string, readonly string[]]> {
  if (entries.length === 0) return [];
  const { changed, dropped } = addTaints(state.taints as Map<string, readonly string[]>, state.windowSizes as Set<number>, entries, maxTaints);
  if (dropped) (state as { taintsDropped?: boolean }).taintsDropped = true;
  return changed;
}

function addTaints(
  taints: Map<string, readonly string[]>,
  windowSizes: Set<number>,
  entries: readonly LabeledTaintEntry[],
  maxTaints: number,
): { changed: Array<[string, readonly string[]]>; dropped: boolean } {
  const changed = new Map<string, readonly string[]>();
  let dropped = false;
  for (const entry of entries) {
    const labels = taints.get(entry.fingerprint);
    taints.delete(entry.fingerprint); // re-insert so recently seen values are dropped last
    const added = entry.labels.filter((label) => !(labels ?? []).includes(label));
    const next = labels !== undefined && added.length === 0 ? labels : [...(labels ?? []), ...added];
    taints.set(entry.fingerprint, next);
    if (next !== labels) changed.set(entry.fingerprint, next);
    if (entry.words > 0) windowSizes.add(entry.words);
  }
  for (const oldest of taints.keys()) {
    if (taints.size <= maxTaints) break;
    taints.delete(oldest);
    changed.delete(oldest);
    dropped = true;
  }
  return { changed: [...changed], dropped };
}

/** JSON form of a session state, for storage. */
export interface SerializedSessionState {
  readonly callCount: number;
  readonly violations: number;
  readonly lastCallAt: ReadonlyArray<readonly [string, number]>;
  readonly taints: ReadonlyArray<readonly [string, readonly string[]]>;
  readonly windowSizes: readonly number[];
  readonly taintsDropped?: boolean;
}

/**
 * Converts a state to plain JSON (Maps become entry lists, so tool names like `__proto__` are safe).
 *
 * @example
 * JSON.stringify(serializeSessionState(state))
 */
export function serializeSessionState(state: SessionState): SerializedSessionState {
  return {
    callCount: state.callCount,
    violations: state.violations,
    lastCallAt: [...state.lastCallAt],
    taints: [...state.taints],
    windowSizes: [...state.windowSizes],
    ...(state.taintsDropped ? { taintsDropped: true } : {}),
  };
}

/**
 * Reads a stored state back; anything malformed yields a fresh state rather than an exception.
 *
 * @example
 * const state = deserializeSessionState(JSON.parse(row.state));
 */
export function deserializeSessionState(value: unknown): SessionState {
  if (typeof value !== 'object' || value === null) return createSessionState();
  const raw = value as Partial<Record<keyof SerializedSessionState, unknown>>;
  const lastCallAt = new Map<string, number>();
  for (const entry of asArray(raw.lastCallAt)) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number') lastCallAt.set(entry[0], entry[1]);
  }
  const taints = new Map<string, readonly string[]>();
  for (const entry of asArray(raw.taints)) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && Array.isArray(entry[1])) {
      taints.set(entry[0], entry[1].filter((label): label is string => typeof label === 'string'));
    }
  }
  const windowSizes = new Set(asArray(raw.windowSizes).filter((size): size is number => Number.isInteger(size)));
  return {
    callCount: toCount(raw.callCount),
    violations: toCount(raw.violations),
    lastCallAt,
    taints,
    windowSizes,
    ...(raw.taintsDropped === true ? { taintsDropped: true } : {}),
  };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function toCount(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}
