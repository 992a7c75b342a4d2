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
