import { createHash, createHmac } from 'node:crypto';

/** The exact action a hold approves: who calls which tool with which arguments in which session, for which user. */
export interface HeldAction {
  readonly tenantId: string;
  readonly agentId: string;
  /** The user the agent acts for: an approval given for one user's request never releases another user's call. */
  readonly userId: string;
  readonly sessionId: string;
  readonly toolName: string;
  readonly arguments: unknown;
}

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped, non-finite
 * numbers as null. Equal values always give equal text.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, 'x'] }) // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
}

/**
 * SHA-256 (hex) of the canonical action, or HMAC-SHA-256 under `key` when one is given. A hold stores it; an
 * approval only releases a call whose action hashes to the same value, so it cannot be reused for other arguments,
 * another session or another user. The hash is shown to approvers and kept in the ledger, and the arguments it covers are raw:
 * with a key, nobody without it can test guesses of a masked value against it.
 *
 * @example
 * actionHash({ tenantId: 't', agentId: 'bot', userId: 'alice', sessionId: 's', toolName: 'refund', arguments: { amount: 5000 } })
 */
export function actionHash(action: HeldAction, key?: string): string {
  const canonical = canonicalJson({
    tenantId: action.tenantId, agentId: action.agentId, userId: action.userId, sessionId: action.sessionId,
    toolName: action.toolName, arguments: action.arguments ?? null,
  });
  const digest = key === undefined || key === '' ? createHash('sha256') : createHmac('sha256', key);
  return digest.update(canonical).digest('hex');
}
