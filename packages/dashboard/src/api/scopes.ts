import type { SessionInfo } from './session.js';

/**
 * Scopes the dashboard can use. The server refuses sign-in to keys with none of them (machine keys holding only
 * `enforce` / `events:write`) and never puts machine scopes in a session.
 */
export type DashboardScope = 'admin' | 'approvals' | 'audit:read' | 'policies' | 'agents';

/**
 * True when the session may use what `scope` guards (`admin` implies every scope, as on the server).
 *
 * @example
 * if (sessionHasScope(session, 'approvals')) showApproveButtons();
 */
export function sessionHasScope(session: Pick<SessionInfo, 'scopes'>, scope: DashboardScope): boolean {
  return session.scopes.includes('admin') || session.scopes.includes(scope);
}

/**
 * The scope a 403 `FORBIDDEN` answer says is missing (`details.requiredScope`), if any.
 *
 * @example
 * requiredScopeOf(error); // 'policies'
 */
export function requiredScopeOf(details: unknown): string | undefined {
  const scope = (details as { requiredScope?: unknown } | null | undefined)?.requiredScope;
  return typeof scope === 'string' ? scope : undefined;
}
