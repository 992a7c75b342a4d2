import { afterAll, describe, expect, it } from 'vitest';
import { resolveSandboxConfig } from '../src/index.js';
import type { SandboxTemplateName } from '../src/index.js';
import { testSupervisor } from './fixtures/harness.js';

// Regression: the DEV template's 2048 MB default asked for more WASM memory than the QuickJS build's 2 GiB maximum,
// so every DEV run failed with "sandbox worker failed to start".
const sandbox = testSupervisor();
afterAll(async () => { await sandbox.close(); });

describe('every seed template runs with its own defaults', () => {
  it.each<SandboxTemplateName>(['STRICT', 'STANDARD', 'DEV'])('%s', async (template) => {
    const result = await sandbox.execute({
      executionId: `template-${template}`,
      agentName: 'template-agent',
      agentVersion: '1.0.0',
      code: 'return { sum: 1 + 1, name: input.name };',
      input: { name: template },
      config: resolveSandboxConfig({ sandbox_template: template }),
    });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ sum: 2, name: template });
  });
});
