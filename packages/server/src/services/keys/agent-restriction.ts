import { TollgateError } from '@tollgate/core';
import { MACHINE_SCOPES, type Scope } from './scopes.js';

/** Most agent ids one key may be restricted to. */
export const MAX_KEY_AGENT_IDS = 100;

/** Longest agent id in a restriction (the longest `agentId` `/v1/enforce` accepts). */
export const MAX_KEY_AGENT_ID_LENGTH = 256;

/**
 * Scopes a restricted key may hold: the machine scopes, whose every route names its agent in the request and
 * checks it, and `agents`, whose routes either limit the key to its agents (matched by the sandbox agent's name,
 * or the kill switch's agent id) or refuse it (see `checksAgentRestriction` in http/auth.ts). Other scopes reach
 * tenant-wide objects (policies, approvals, the ledger, other keys), so restricting them to agents would promise
 * more than the server enforces.
 */
export const AGENT_RESTRICTABLE_SCOPES: readonly Scope[] = [...MACHINE_SCOPES, 'agents'];

// Whitespace at either end, C0/C1 controls, and the glob character: exact ids only, and none that reads as a
// pattern or hides a difference from the person who reads the key's listing.
const REFUSED_ID = /^\s|\s$|[\u0000-\u001f\u007f-\u009f*]/u;

function invalid(message: string, details: Record<string, unknown> = {}): TollgateError {
  return new TollgateError('VALIDATION_FAILED', message, { details: [{ field: 'agentIds', ...details }] });
}

/**
 * Checks an agent restriction for a new key: undefined/null = unrestricted (null); otherwise 1 to
 * {@link MAX_KEY_AGENT_IDS} exact ids of 1 to {@link MAX_KEY_AGENT_ID_LENGTH} characters, deduplicated, and only
 * with {@link AGENT_RESTRICTABLE_SCOPES}. Throws 400 `VALIDATION_FAILED` (field `agentIds`).
 *
 * @example
 * validateAgentRestriction(['support-bot'], ['enforce']); // ['support-bot']
 */
export function validateAgentRestriction(agentIds: readonly unknown[] | null | undefined, scopes: readonly Scope[]): string[] | null {
  if (agentIds === undefined || agentIds === null) return null;
  if (!Array.isArray(agentIds) || agentIds.length === 0) throw invalid('agentIds must list at least one agent id');
  if (agentIds.length > MAX_KEY_AGENT_IDS) throw invalid(`agentIds may list at most ${MAX_KEY_AGENT_IDS} agent ids`);
  for (const id of agentIds) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_KEY_AGENT_ID_LENGTH) {
      throw invalid(`Each agent id must be a string of 1 to ${MAX_KEY_AGENT_ID_LENGTH} characters`);
    }
    if (REFUSED_ID.test(id)) throw invalid('Agent ids are exact: no surrounding whitespace, control characters or *', { agentId: id });
  }
  const other = scopes.filter((scope) => !AGENT_RESTRICTABLE_SCOPES.includes(scope));
  if (other.length > 0) {
    throw invalid(`A key restricted to agents may only hold the scopes ${AGENT_RESTRICTABLE_SCOPES.join(', ')}`, { scopes: other });
  }
  return [...new Set(agentIds as string[])];
}

/**
 * Refuses an agent id outside the key's restriction (403 `KEY_AGENT_FORBIDDEN`); an unrestricted key
 * (`agentIds` undefined) may name any agent. Exact comparison: no case or Unicode folding, no trimming.
 *
 * @example
 * assertAgentAllowed(auth, body.agentId);
 */
export function assertAgentAllowed(auth: { readonly agentIds?: readonly string[] | undefined }, agentId: string): void {
  if (auth.agentIds === undefined || auth.agentIds.includes(agentId)) return;
  throw agentForbidden(agentId);
}

/**
 * The 403 KEY_AGENT_FORBIDDEN answer for a key restricted to agents acting for another one.
 *
 * @example
 * if (!(await mayHalt(tenantId, auth, agentId))) throw agentForbidden(agentId);
 */
export function agentForbidden(agentId: string): TollgateError {
  return new TollgateError('KEY_AGENT_FORBIDDEN', 'This API key may not act for this agent', { details: [{ field: 'agentId', agentId }] });
}

/** What the agent checks read of a request's credentials: `agentIds` is set only for a restricted key. */
export interface AgentRestriction {
  readonly agentIds?: readonly string[] | undefined;
}

/**
 * True when `auth` may act for the agent `name` (always for an unrestricted key).
 *
 * @example
 * agents.filter((agent) => allowsAgent(auth, agent.name));
 */
export function allowsAgent(auth: AgentRestriction, name: string): boolean {
  return auth.agentIds === undefined || auth.agentIds.includes(name);
}

/**
 * Refuses a restricted key outright (403 `KEY_AGENT_FORBIDDEN`), naming what it may not do.
 *
 * @example
 * refuseRestrictedKey(auth, 'register new agents');
 */
export function refuseRestrictedKey(auth: AgentRestriction, action: string, details: Record<string, unknown> = {}): void {
  if (auth.agentIds === undefined) return;
  throw new TollgateError('KEY_AGENT_FORBIDDEN', `A key restricted to agents may not ${action}`, { details: [details] });
}
