import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';

function diagnosticsOf(text: string): Array<{ code: string; line: number; column: number; message: string }> {
  const result = loadPolicy(text);
  expect(result.ok).toBe(false);
  return result.diagnostics.map(({ code, line, column, message }) => ({ code, line, column, message }));
}

describe('policy lint diagnostics', () => {
  it.each([
    ['a YAML syntax error', 'name: x\nrules: [\n  - a\n', 'POLICY_SYNTAX', 3],
    ['an unknown rule key (a typo)', 'rules:\n  - id: a\n    efect: BLOCK\n    effect: BLOCK\n', 'POLICY_UNKNOWN_KEY', 3],
    ['a bad effect', 'rules:\n  - id: a\n    effect: DENY\n', 'POLICY_VALUE', 3],
    ['a bad duration', 'rules:\n  - id: a\n    effect: BLOCK\n    rateLimit: { count: 1, window: soon }\n', 'POLICY_VALUE', 4],
    ['a duplicate rule id', 'rules:\n  - { id: a, effect: BLOCK }\n  - { id: a, effect: BLOCK }\n', 'POLICY_DUPLICATE_RULE', 3],
    ['an unknown CEL variable', 'rules:\n  - id: a\n    effect: BLOCK\n    when: argz.x > 1\n', 'POLICY_CEL', 4],
  ])('%s is reported with its line', (_label, text, code, line) => {
    const found = diagnosticsOf(text);
    expect(found).toContainEqual(expect.objectContaining({ code, line }));
  });

  // Regression: a bad effect in one rule hid the CEL error of another until the effect was fixed.
  it('reports CEL errors of a document that also fails validation, in file order', () => {
    const text = 'rules:\n  - id: a\n    effect: BLOCK\n    when: args.x > > 1\n  - id: b\n    effect: DENY\n';
    expect(diagnosticsOf(text).map(({ code, line }) => [code, line])).toEqual([['POLICY_CEL', 4], ['POLICY_VALUE', 6]]);
  });

  it('points at the column of a CEL syntax error inside a plain scalar', () => {
    const [diagnostic] = diagnosticsOf('rules:\n  - id: a\n    effect: BLOCK\n    when: args.x > > 1\n');
    expect(diagnostic).toMatchObject({ code: 'POLICY_CEL', line: 4, column: 20 });
  });

  it('points into a quoted scalar past its opening quote', () => {
    const [diagnostic] = diagnosticsOf('rules:\n  - id: a\n    effect: BLOCK\n    when: "args.x > > 1"\n');
    expect(diagnostic).toMatchObject({ code: 'POLICY_CEL', line: 4, column: 21 });
  });

  it('points into the right line of a block scalar', () => {
    const text = 'rules:\n  - id: a\n    effect: BLOCK\n    when: |\n      args.x > 1 &&\n      args.y ==\n';
    const [diagnostic] = diagnosticsOf(text);
    expect(diagnostic).toMatchObject({ code: 'POLICY_CEL', line: 6 });
  });

  it('reports JSON policies with positions too', () => {
    const [diagnostic] = diagnosticsOf('{\n  "rules": [\n    { "id": "a", "effect": "MAYBE" }\n  ]\n}\n');
    expect(diagnostic).toMatchObject({ code: 'POLICY_VALUE', line: 3 });
  });

  it('rejects a condition that is not a bool', () => {
    const found = diagnosticsOf('rules:\n  - { id: a, effect: BLOCK, when: "1 + 2" }\n');
    expect(found[0]?.message).toContain('must be a bool');
  });

  it('rejects output in a call-stage rule', () => {
    const found = diagnosticsOf('rules:\n  - { id: a, effect: BLOCK, when: "output == 1" }\n');
    expect(found[0]?.message).toContain('stage: output');
  });

  it('accepts a valid policy', () => {
    expect(loadPolicy('name: ok\nagents: { a: { approvedScope: [x] } }\nrules: []\n').ok).toBe(true);
  });
});
