import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { compileNameMatcher, matchesGlob } from './glob.js';
import { createSessionState } from './session-state.js';
import type { EvaluationInput } from './types.js';

// Attacks by someone who may write policies (or, for the declared scope, call /v1/enforce): each
// used to stall the server's event loop or exhaust its memory. The inputs are sized so that the old
// code would run for minutes; the fixed code answers at once.

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

function call(overrides: Partial<EvaluationInput>): EvaluationInput {
  return { agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', arguments: {}, enforcement: 'block', now: 0, ...overrides };
}

describe('globs match in linear time', () => {
  // A glob became one backtracking regular expression; `*a` repeated 14 times took 150 s per name.
  const evil = `${'*a'.repeat(16)}b`;
  const name = 'a'.repeat(60);

  it('a policy scope with many stars answers at once (BLOCK: outside the scope)', () => {
    const policy = compile(`agents: { bot: { approvedScope: ["${evil}"] } }\n`);
    expect(evaluatePolicy(policy, call({ toolName: name }), { session: createSessionState() }).decision).toBe('BLOCK');
  });

  it('a rule match and a scope declared by the SDK with many stars answer at once', () => {
    const policy = compile(`agents: { bot: { approvedScope: ["a*"] } }\nrules:\n  - { id: r, match: { tools: ["${evil}"] }, effect: BLOCK }\n`);
    const result = evaluatePolicy(policy, call({ toolName: name, approvedScope: [evil] }), { session: createSessionState() });
    expect(result.decision).toBe('BLOCK');
    expect(result.matchedRules).toEqual(['approved-scope']);
  });

  it.each([
    ['kb_*', 'kb_search', true], ['kb_*', 'kb_', true], ['kb_*', 'k', false], ['*', '', true], ['a?c', 'abc', true],
    ['a?c', 'ac', false], ['*_admin', 'db_admin', true], ['*_admin', 'db_admin2', false], ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false], ['a**b', 'ab', true], ['x.*', 'xy', false], ['x.*', 'x.y', true], ['(a)*', '(a)zz', true],
    ['*a*a*b', 'aab', true], ['?', '\n', true], ['*', 'line\nbreak', true],
  ])('%s against %j is %s (same answers as the regular expression it replaces)', (pattern, name_, expected) => {
    expect(matchesGlob(pattern, name_)).toBe(expected);
    expect(compileNameMatcher([pattern])(name_)).toBe(expected);
  });
});
