import { PERMISSION_PRESETS as RUNTIME_PRESETS, PERMISSION_SCOPES as RUNTIME_SCOPES } from '@tollgate/sandbox';
import { describe, expect, it } from 'vitest';
import { PERMISSION_PRESETS, PERMISSION_SCOPES } from './permission-presets.js';
import { SecureAgent } from './secure-agent.js';

// The SDK has zero runtime dependencies, so it carries a copy of the runtime's preset data; this keeps them equal.
describe('permission presets', () => {
  it('equal the runtime presets of @tollgate/sandbox', () => {
    expect(PERMISSION_PRESETS).toEqual(RUNTIME_PRESETS);
    expect([...PERMISSION_SCOPES]).toEqual([...RUNTIME_SCOPES]);
  });

  it('are what SecureAgent.permissions exposes, frozen, with CODER as the seed lists it', () => {
    expect(SecureAgent.permissions).toBe(PERMISSION_PRESETS);
    expect(SecureAgent.permissions.CODER).toEqual(['compute:read', 'compute:write', 'inference:call', 'data:read', 'network:outbound']);
    expect(Object.isFrozen(SecureAgent.permissions) && Object.isFrozen(SecureAgent.permissions.FULL)).toBe(true);
  });
});
