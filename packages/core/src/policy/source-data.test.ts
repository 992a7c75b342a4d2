import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import { parsePolicySource, parsePolicySourceData, parsedSourceFromData } from './source.js';

// The parse as plain data crosses a worker boundary (structuredClone stands in for postMessage): whatever comes back
// must place every diagnostic exactly where parsing on this thread does.
const SOURCES = [
  ['valid YAML', 'name: p\nagents:\n  bot: { approvedScope: [a] }\nrules:\n  - id: r\n    match: { tools: [a] }\n    when: args.n > 1\n    effect: BLOCK\n'],
  ['a CEL error inside a block scalar', 'name: p\nrules:\n  - id: r\n    match: { tools: [a] }\n    when: |\n      args.n >\n        nope(\n    effect: BLOCK\n'],
  ['a CEL error in a quoted string', 'name: p\nrules:\n  - { id: r, match: { tools: [a] }, when: "args.n > > 1", effect: BLOCK }\n'],
  ['a YAML syntax error', 'name: p\nrules: [\n  - oops\n'],
  ['a duplicate key', 'name: p\nname: q\n'],
  ['JSON', '{ "name": "p", "rules": [{ "id": "r", "match": { "tools": ["a"] }, "when": "args.x ==", "effect": "BLOCK" }] }'],
  ['an unknown field', 'name: p\nrulez: []\n'],
] as const;

describe('policy source parsed as plain data', () => {
  it.each(SOURCES)('%s: same value, diagnostics and positions as parsing in place', (_, text) => {
    const here = parsePolicySource(text);
    const there = parsedSourceFromData(text, structuredClone(parsePolicySourceData(text)));
    expect(there.value).toEqual(here.value);
    expect(there.diagnostics).toEqual(here.diagnostics);
    expect(loadPolicy(text, { parsed: there }).diagnostics).toEqual(loadPolicy(text).diagnostics);
    expect(there.sourceMap.position('rules[0].when')).toEqual(here.sourceMap.position('rules[0].when'));
  });

  it('reports a CEL error at its line and column from the cloned data', () => {
    const text = SOURCES[2][1];
    const result = loadPolicy(text, { parsed: parsedSourceFromData(text, structuredClone(parsePolicySourceData(text))) });
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_CEL', line: 3 });
    expect(result.diagnostics[0]!.column).toBeGreaterThan(40);
  });
});

describe('compiling in slices', () => {
  it('gives the same policy and the same diagnostics as compiling in one go, pausing between slices', async () => {
    const { loadPolicyAsync, RULES_PER_PAUSE } = await import('./compile.js');
    const rules = (broken: number) => Array.from({ length: RULES_PER_PAUSE * 2 + 7 }, (_, i) =>
      `  - { id: r${i}, match: { tools: [t${i}] }, when: '${i === broken ? 'args.n > > 1' : `args.n > ${i}`}', effect: BLOCK }`).join('\n');
    for (const text of [`name: p\nrules:\n${rules(-1)}\n`, `name: p\nrules:\n${rules(RULES_PER_PAUSE + 3)}\n`]) {
      let pauses = 0;
      const sliced = await loadPolicyAsync(text, { pause: async () => { pauses += 1; } });
      const whole = loadPolicy(text);
      expect(sliced.ok).toBe(whole.ok);
      expect(sliced.diagnostics).toEqual(whole.diagnostics);
      if (sliced.ok && whole.ok) {
        expect(sliced.policy.document).toEqual(whole.policy.document);
        expect(sliced.policy.cost).toBe(whole.policy.cost);
        for (const tool of ['t0', 't250', `t${RULES_PER_PAUSE * 2 + 6}`]) {
          expect(sliced.policy.plan(tool).callRules.map((rule) => rule.rule.id)).toEqual(whole.policy.plan(tool).callRules.map((rule) => rule.rule.id));
        }
      }
      expect(pauses).toBe(2);
    }
  });
});
