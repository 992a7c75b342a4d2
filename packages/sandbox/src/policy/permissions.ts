/**
 * Permission scopes and presets of the Secure Agent API (seed), as pure data.
 *
 * `@tollgate/sdk` keeps a byte-for-byte copy (it has zero runtime dependencies) and its test compares the two.
 * Presets the seed lists explicitly: CODER. The others are inferred from the seed's one-line descriptions:
 * READONLY "safest" (read compute status and data, nothing else), WRITER "inference + data:read only",
 * RESEARCHER "network + inference, no cross-agent write" (may read other agents' outputs), ANALYST "broadest data
 * access" (every data/storage scope, no network, no compute submission, no cross-agent write), FULL every scope.
 */
export const PERMISSION_SCOPES = [
  'compute:read',
  'compute:write',
  'inference:call',
  'data:read',
  'data:write',
  'network:outbound',
  'storage:read',
  'storage:write',
  'agents:read',
  'agents:write',
] as const;

/** One capability an agent may be granted. */
export type PermissionScope = (typeof PERMISSION_SCOPES)[number];

/** Names of the built-in presets. */
export type PermissionPresetName = 'READONLY' | 'WRITER' | 'RESEARCHER' | 'CODER' | 'ANALYST' | 'FULL';

/**
 * Frozen preset scope lists (the seed's `SecureAgent.permissions`).
 *
 * @example
 * PERMISSION_PRESETS.CODER; // ['compute:read','compute:write','inference:call','data:read','network:outbound']
 */
export const PERMISSION_PRESETS: Readonly<Record<PermissionPresetName, readonly PermissionScope[]>> = Object.freeze({
  READONLY: Object.freeze(['compute:read', 'data:read'] as PermissionScope[]),
  WRITER: Object.freeze(['inference:call', 'data:read'] as PermissionScope[]),
  RESEARCHER: Object.freeze(['inference:call', 'data:read', 'network:outbound', 'agents:read'] as PermissionScope[]),
  CODER: Object.freeze(['compute:read', 'compute:write', 'inference:call', 'data:read', 'network:outbound'] as PermissionScope[]),
  ANALYST: Object.freeze([
    'compute:read', 'inference:call', 'data:read', 'data:write', 'storage:read', 'storage:write', 'agents:read',
  ] as PermissionScope[]),
  FULL: Object.freeze([...PERMISSION_SCOPES]),
});

/** The seed's name for the presets (`SecureAgent.permissions.*`). */
export const PERMISSIONS = PERMISSION_PRESETS;

/** Host functions the guest can call through `tollgate.*` / `thetazero.*`. */
export type HostFunctionName = 'log' | 'write_result' | 'http_request' | 'read_context';

/**
 * Scope each host function needs; `null` means always allowed. `log` and `write_result` only touch the run's own
 * record, so even a READONLY agent can report its result (the seed's quick start needs that).
 *
 * @example
 * HOST_FUNCTION_SCOPES.http_request; // 'network:outbound'
 */
export const HOST_FUNCTION_SCOPES: Readonly<Record<HostFunctionName, PermissionScope | null>> = Object.freeze({
  log: null,
  write_result: null,
  http_request: 'network:outbound',
  read_context: 'data:read',
});

/** Host functions that count against `max_api_calls_per_run` (the seed: http_request and read_context). */
export const QUOTA_COUNTED_FUNCTIONS: ReadonlySet<HostFunctionName> = new Set(['http_request', 'read_context']);

/**
 * True when `value` is one of the ten scopes.
 *
 * @example
 * isPermissionScope('data:read'); // true
 */
export function isPermissionScope(value: unknown): value is PermissionScope {
  return typeof value === 'string' && (PERMISSION_SCOPES as readonly string[]).includes(value);
}
