/**
 * Permission scopes and presets of the Secure Agent API.
 *
 * The SDK has zero runtime dependencies, so this is a copy of the data in `@tollgate/sandbox`
 * (`PERMISSION_PRESETS`); `permission-presets.test.ts` fails if the two ever differ.
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

export type PermissionScope = (typeof PERMISSION_SCOPES)[number];

export type PermissionPresetName = 'READONLY' | 'WRITER' | 'RESEARCHER' | 'CODER' | 'ANALYST' | 'FULL';

/**
 * Frozen preset scope lists, exposed as `SecureAgent.permissions`.
 *
 * @example
 * new SecureAgent({ apiKey, permissions: SecureAgent.permissions.CODER });
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
