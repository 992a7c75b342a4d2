import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import { parsePolicyTestCases, runPolicyTests } from './policy-tests.js';

const examples = fileURLToPath(new URL('../../../../examples/policies/', import.meta.url));

describe('examples/policies/support-agent.yaml', () => {
  const loaded = loadPolicy(readFileSync(`${examples}support-agent.yaml`, 'utf8'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const cases = parsePolicyTestCases(readFileSync(`${examples}support-agent.cases.yaml`, 'utf8'));

  it('compiles without diagnostics', () => {
    expect(loaded.diagnostics).toEqual([]);
  });

  it.each(runPolicyTests(loaded.policy, cases).map((result) => [result.name, result] as const))('%s', (_name, result) => {
    expect(result.failures).toEqual([]);
  });
});

describe('examples/policies/read-only.json', () => {
  const loaded = loadPolicy(readFileSync(`${examples}read-only.json`, 'utf8'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const cases = parsePolicyTestCases(`
cases:
  - name: reads inside the project, asks for secrets, refuses escapes and writes
    agent: research-agent
    calls:
      - { tool: read_file, args: { path: /srv/project/README.md }, expect: ALLOW }
      - { tool: read_file, args: { path: /srv/project/.env }, expect: STEP_UP }
      - { tool: read_file, args: { path: /srv/project/../../etc/passwd }, expect: BLOCK }
      - { tool: list_dir, args: { path: /etc }, expect: BLOCK }
      - { tool: write_file, args: { path: /srv/project/x }, expect: BLOCK, rules: [approved-scope] }
`);

  it.each(runPolicyTests(loaded.policy, cases).map((result) => [result.name, result] as const))('%s', (_name, result) => {
    expect(result.failures).toEqual([]);
  });
});
