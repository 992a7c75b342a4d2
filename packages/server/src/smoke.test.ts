import { describe, expect, it } from 'vitest';
import { CORE_VERSION } from '@tollgate/core';
import { fileURLToPath } from 'node:url';
describe('workspace', () => {
  it('resolves sibling packages from source', async () => {
    const resolved = import.meta.resolve?.('@tollgate/core');
    expect(CORE_VERSION).toBe('0.1.0');
    console.log(resolved && fileURLToPath(resolved));
  });
});
