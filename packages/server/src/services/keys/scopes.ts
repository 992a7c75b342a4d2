/** Every API key scope. `admin` implies all others. */
export const SCOPES = ['admin', 'enforce', 'events:write', 'agents', 'audit:read', 'approvals', 'policies'] as const;

export type Scope = (typeof SCOPES)[number];

/**
 * True when `value` names a scope.
 *
 * @example
 * isScope('enforce'); // true
 */
export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/**
 * True when a key holding `granted` may use a route requiring `required`.
 *
 * @example
 * hasScope(['admin'], 'policies'); // true
 */
export function hasScope(granted: readonly string[], required: Scope): boolean {
  return granted.includes('admin') || granted.includes(required);
}

/** Scopes of machines (an agent's SDK), never of a dashboard session: `admin` does not imply them for a session. */
export const MACHINE_SCOPES = ['enforce', 'events:write'] as const satisfies readonly Scope[];

/**
 * True when `scope` is a machine scope (see {@link MACHINE_SCOPES}).
 *
 * @example
 * isMachineScope('enforce'); // true
 */
export function isMachineScope(scope: Scope): boolean {
  return (MACHINE_SCOPES as readonly Scope[]).includes(scope);
}
