import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { recordOutputTaints } from './output.js';
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

function ruleWhen(when: string, effect = 'BLOCK'): string {
  return `agents: { bot: { approvedScope: [t] } }\nrules:\n  - id: r\n    match: { tools: [t] }\n    when: ${JSON.stringify(when)}\n    effect: ${effect}\n`;
}

describe('CEL conditions with unbounded cost are refused when the policy is compiled', () => {
  const list = '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]';
  let nested = 'true';
  for (let level = 0; level < 10; level += 1) nested = `${list}.all(x${level}, ${nested})`;
  let doubling = 'size(v24) > 0';
  for (let level = 24; level >= 1; level -= 1) doubling = `cel.bind(v${level}, v${level - 1} + v${level - 1}, ${doubling})`;
  doubling = `cel.bind(v0, [1, 2, 3, 4, 5, 6, 7, 8], ${doubling})`;

  it.each([
    // 10^10 iterations of the body: hours of a blocked event loop on every call to tool t.
    ['ten nested comprehensions', nested, 'comprehensions cannot be nested'],
    ['a comprehension in the body of another', 'args.items.exists(a, args.items.exists(b, a == b))', 'comprehensions cannot be nested'],
    ['a comprehension in a map transform', 'size([1].map(a, [2].filter(b, b > a))) > 0', 'comprehensions cannot be nested'],
    // A list doubled 24 times (8 · 2^24 elements per level) exhausted the heap and killed the process.
    ['cel.bind doubling a list', doubling, 'cel.bind is not supported'],
    // 28 characters took 7.5 s; each more character doubles it.
    ['matches() with a catastrophic pattern', `"${'a'.repeat(40)}!".matches("^(a+)+$")`, 'matches() is not supported'],
    ['matches() on an argument', 'args.s.matches("^[a-z]+$")', 'matches() is not supported'],
  ])('%s', (_label, when, message) => {
    const result = loadPolicy(ruleWhen(when));
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_CEL', path: 'rules[0].when', line: 5 });
    expect(result.diagnostics[0]?.message).toContain(message);
  });

  it.each([
    ['one comprehension', 'args.items.exists(i, i > 100)', { items: [1, 500] }],
    ['comprehensions in a chain (a range may be a comprehension)', 'args.items.map(i, i * 2).exists(i, i > 100)', { items: [1, 60] }],
    ['comprehensions side by side', 'args.items.all(i, i > 0) && args.items.exists(i, i > 100)', { items: [1, 500] }],
    ['a field named matches', 'has(args.matches) && args.matches > 1', { matches: 2 }],
  ])('still allowed: %s', (_label, when, args) => {
    const policy = compile(ruleWhen(when));
    expect(evaluatePolicy(policy, call({ arguments: args }), { session: createSessionState() }).decision).toBe('BLOCK');
  });
});

describe('every kind of run-time error fails closed', () => {
  it.each([
    ['integer division by zero', 'int(args.a) / int(args.b) > 1', { a: 1, b: 0 }],
    ['index out of range', 'args.l[5] == 1', { l: [1] }],
    ['a string that is not a number', 'int(args.s) > 0', { s: 'x' }],
    ['integer overflow', 'args.n * 2 > 0', { n: 9007199254740991 }],
    ['a field of a string', 'args.s.x == 1', { s: 'text' }],
    ['a method on the wrong type', 'args.n.startsWith("x")', { n: 5 }],
    ['an invalid timestamp', 'timestamp(args.s) < time.now', { s: 'yesterday' }],
    ['an error inside a comprehension', '[1, 2].exists(x, args.missing == x)', {}],
    ['a negated error', '!(args.missing > 1)', {}],
    ['an error or false', 'args.missing > 1 || false', {}],
    ['a non-bool from dyn', 'args.flag', { flag: 'yes' }],
  ])('%s: the BLOCK rule applies and the error is recorded', (_label, when, args) => {
    const result = evaluatePolicy(compile(ruleWhen(when)), call({ arguments: args }), { session: createSessionState() });
    expect(result.decision).toBe('BLOCK');
    expect(result.errors.map((error) => error.ruleId)).toEqual(['r']);
  });

  it('a STEP_UP rule that errors asks a human (never ALLOW)', () => {
    const result = evaluatePolicy(compile(ruleWhen('int(args.a) / int(args.b) > 1', 'STEP_UP')), call({ arguments: { a: 1, b: 0 } }), { session: createSessionState() });
    expect(result.decision).toBe('STEP_UP');
  });
});

describe('YAML documents', () => {
  function laughs(levels: number): string {
    let text = 'name: x\ndescription:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
    for (let level = 1; level <= levels; level += 1) {
      text += `  l${level}: &l${level} [${Array.from({ length: 9 }, () => `*l${level - 1}`).join(', ')}]\n`;
    }
    return text;
  }

  it('an alias expansion bomb is a diagnostic, not an exception', () => {
    // The YAML library's guard threw a ReferenceError out of loadPolicy (a 500 on the server, a crash of lint).
    const result = loadPolicy(laughs(9));
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_SYNTAX' });
    expect(result.diagnostics[0]?.message).toContain('alias');
  });

  it.each([
    ['a number and a string', '"1": { approvedScope: [read] }\n  1: { approvedScope: ["*"] }'],
    ['a bool and a string', '"true": { approvedScope: [read] }\n  true: { approvedScope: ["*"] }'],
    ['null and the empty string', '"": { approvedScope: [read] }\n  ~: { approvedScope: ["*"] }'],
  ])('keys that become the same string (%s) are refused, not resolved by the later one', (_label, entries) => {
    const result = loadPolicy(`agents:\n  ${entries}\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_SYNTAX', line: 3 });
  });

  it.each([
    ['duplicate keys', 'agents:\n  bot: { approvedScope: [read] }\n  "bot": { approvedScope: ["*"] }\n'],
    ['duplicate keys in JSON', '{"agents": {"bot": {"approvedScope": ["read"]}, "bot": {"approvedScope": ["*"]}}}'],
    ['several documents', 'agents:\n  bot: { approvedScope: [read] }\n---\nagents:\n  bot: { approvedScope: ["*"] }\n'],
    ['a merge key (YAML 1.2 has none)', 'agents:\n  bot: &b { approvedScope: [read] }\n  bot2: { <<: *b, enforcement: block }\n'],
    ['binary data as a name', 'agents:\n  bot: { approvedScope: [!!binary aGVsbG8=] }\n'],
    ['deep nesting', `name: x\ndescription: ${'['.repeat(5000)}${']'.repeat(5000)}\n`],
  ])('still refused: %s', (_label, text) => {
    expect(loadPolicy(text).ok).toBe(false);
  });

  it('an unknown tag keeps the written text and is reported as a warning', () => {
    const result = loadPolicy('agents:\n  bot: { approvedScope: [!!js/function "read"] }\n');
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((diagnostic) => diagnostic.code)).toEqual(['POLICY_SYNTAX_WARNING']);
  });

  it('a byte order mark is ignored', () => {
    expect(loadPolicy('\uFEFFagents:\n  bot: { approvedScope: [read] }\n').ok).toBe(true);
  });
});

describe('the total cost of a policy\'s conditions is bounded', () => {
  const list = `[${Array.from({ length: 950 }, (_, index) => index).join(', ')}]`;
  const heavy = `${list}.all(x, ${Array.from({ length: 230 }, () => 'x').join(' + ')} > -1)`;

  it('a comprehension over a large list literal with a large body is refused', () => {
    // 215 such rules fit in 1 MB and made every call to any tool run about 2 s of CEL.
    const result = loadPolicy(ruleWhen(heavy));
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]?.message).toContain('evaluation steps per call');
  });

  it('many rules that are each affordable are refused together once over the budget', () => {
    const affordable = `[${Array.from({ length: 400 }, (_, index) => index).join(', ')}]`;
    const when = `${affordable}.exists(x, x == args.a || x == args.b || x == args.c || x == args.d)`;
    const rules = Array.from({ length: 60 }, (_, index) => `  - { id: r${index}, effect: BLOCK, when: ${JSON.stringify(when)} }`).join('\n');
    const result = loadPolicy(`agents: { bot: { approvedScope: ["*"] } }\nrules:\n${rules}\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]?.path).toMatch(/^rules\[\d+\]\.when$/);
    expect(loadPolicy(`agents: { bot: { approvedScope: ["*"] } }\nrules:\n${rules.split('\n').slice(0, 5).join('\n')}\n`).ok).toBe(true);
  });

  it('an ordinary comprehension over a list literal is accepted', () => {
    expect(loadPolicy(ruleWhen('["a", "b", "c"].exists(s, args.path.startsWith(s))')).ok).toBe(true);
  });
});

describe('a policy that lints clean does what it reads', () => {
  it.each([
    ['a zero-width space after the tool name', 'send_email\u200b'],
    ['a trailing space', 'send_email '],
    ['a right-to-left override', 'send_\u202eliame'],
    ['a line break', 'send\nemail'],
  ])('a rule name with %s is refused (it would never match send_email)', (_label, name) => {
    const result = loadPolicy(`agents: { bot: { approvedScope: [send_email] } }\nrules:\n  - { id: r, match: { tools: [${JSON.stringify(name)}] }, effect: BLOCK }\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_VALUE', path: 'rules[0].match.tools', line: 3 });
    expect(result.diagnostics[0]?.message).toContain('invisible');
  });

  it('an agent key with an invisible character is refused', () => {
    const result = loadPolicy('agents:\n  "bot\u200b": { approvedScope: ["*"] }\n');
    expect(result.ok).toBe(false);
  });

  it('a look-alike letter (Cyrillic і in send_emaіl) is a warning a reviewer sees', () => {
    const result = loadPolicy('agents: { bot: { approvedScope: [send_email] } }\nrules:\n  - { id: r, match: { tools: [send_ema\u0456l] }, effect: BLOCK }\n');
    expect(result.ok).toBe(true);
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'POLICY_NAME_WARNING', message: expect.stringContaining('\\u{456}') })]);
  });

  it.each([
    ['a label no source declares', 'dataFlow: { sources: [{ tools: [read_customer], label: customer_pii }] }\n', '{ labels: [customer_pi] }'],
    ['dataFlow: true with no source', '', 'true'],
  ])('a data-flow rule with %s is refused (it could never fire)', (_label, sources, flow) => {
    const result = loadPolicy(`agents: { bot: { approvedScope: ["*"] } }\n${sources}rules:\n  - { id: leak, match: { tools: [send_email] }, dataFlow: ${flow}, effect: BLOCK }\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]?.message).toContain('can never fire');
  });
});

describe('policy documents at the size limit', () => {
  it('a mapping with 90,000 keys is checked for duplicates in linear time', () => {
    // The YAML library's uniqueKeys compared each key with every earlier one: 100 s for this 1 MB document.
    const keys = Array.from({ length: 90_000 }, (_, index) => `"k${index}": 1`);
    const result = loadPolicy(`{${keys.join(',')}, "k5": 2}`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_SYNTAX', message: 'Map keys must be unique' });
  });
});

describe('diagnostics are capped', () => {
  it('a document with 260,000 errors reports the first 200 and how many more', () => {
    const result = loadPolicy(`rules: [${Array.from({ length: 260_000 }, () => '1').join(',')}]\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toHaveLength(201);
    expect(result.diagnostics[200]).toMatchObject({ code: 'POLICY_TOO_MANY_DIAGNOSTICS', message: '259800 more diagnostics not shown' });
  });
});

describe('rate-limit rules are bounded', () => {
  const rules = (count: number) => Array.from({ length: count }, (_, index) => `  - { id: r${index}, rateLimit: { count: 1000, window: 1d, per: session }, effect: BLOCK }`).join('\n');

  it('a policy with 201 rate-limited rules is refused (each call wrote one counter per rule)', () => {
    const result = loadPolicy(`agents: { bot: { approvedScope: ["*"] } }\nrules:\n${rules(201)}\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: 'POLICY_VALUE', path: 'rules[200].rateLimit' })]);
  });

  it('200 are accepted, and one call then counts at most 200 keys', () => {
    const policy = compile(`agents: { bot: { approvedScope: ["*"] } }\nrules:\n${rules(200)}\n`);
    expect(evaluatePolicy(policy, call({}), { session: createSessionState(), rateCount: () => 0 }).rateLimitKeys).toHaveLength(200);
  });
});

describe('data-flow sources are bounded', () => {
  const sources = (count: number) => Array.from({ length: count }, (_, index) => `    - { tools: ["*"], label: l${index} }`).join('\n');
  const withSources = (count: number) => `agents: { bot: { approvedScope: ["*"] } }\ndataFlow:\n  sources:\n${sources(count)}\nrules:\n  - { id: r, dataFlow: true, effect: BLOCK }\n`;

  it('more than 100 sources are refused (1,000 took 42 s to record one output)', () => {
    const result = loadPolicy(withSources(101));
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_VALUE', path: 'dataFlow.sources' });
  });

  it('sources share the fingerprint of each value: one hash per value, not one per source', () => {
    const policy = compile(withSources(100));
    const output = { items: Array.from({ length: 50 }, (_, index) => `customer ${index}`) };
    let hashes = 0;
    const session = recordOutputTaints(policy, createSessionState(), 'lookup', output, (text) => { hashes += 1; return `h:${text}`; });
    expect(hashes).toBe(50);
    expect(session.taints.get('h:customer 7')).toHaveLength(100);
  });
});

describe('data-flow fields are bounded', () => {
  it('more than 200 fields over all sources are refused (each is looked up through the whole output)', () => {
    const fields = Array.from({ length: 201 }, (_, index) => `items.f${index}`).join(', ');
    const result = loadPolicy(`dataFlow:\n  sources:\n    - { tools: [lookup], label: l, fields: [${fields}] }\n`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]).toMatchObject({ code: 'POLICY_VALUE', path: 'dataFlow.sources' });
    expect(loadPolicy(`dataFlow:\n  sources:\n    - { tools: [lookup], label: l, fields: [${fields.split(', ').slice(0, 200).join(', ')}] }\n`).ok).toBe(true);
  });
});

describe('agent scopes resolve as documented', () => {
  it('"*" applies only when no exact id or other glob matches, even when written first', () => {
    // "*" written before "contractor-*" used to shadow it: contractors got the wide scope of "*".
    const policy = compile('agents:\n  "*": { approvedScope: ["*"] }\n  "contractor-*": { approvedScope: [search_kb] }\n  contractor-lead: { approvedScope: [search_kb, send_email] }\n');
    const decide = (agentId: string, toolName: string) => evaluatePolicy(policy, call({ agentId, toolName }), { session: createSessionState() }).decision;
    expect(decide('contractor-7', 'delete_database')).toBe('BLOCK');
    expect(decide('contractor-7', 'search_kb')).toBe('ALLOW');
    expect(decide('contractor-lead', 'send_email')).toBe('ALLOW');
    expect(decide('contractor-lead', 'delete_database')).toBe('BLOCK');
    expect(decide('employee', 'delete_database')).toBe('ALLOW');
  });
});

describe('literals that build large inputs', () => {
  it('a string literal longer than 4096 characters is refused', () => {
    const result = loadPolicy(ruleWhen(`"${'x,'.repeat(2100)}".size() > 0`));
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]?.message).toContain('at most 4096 characters');
  });

  it('a comprehension over a split string literal counts one body per piece', () => {
    // 250,000 pieces of a 500 KB literal, each running a 1,900-node body, were counted as one.
    const body = Array.from({ length: 120 }, () => 'x').join(' + ');
    const result = loadPolicy(ruleWhen(`"${'x,'.repeat(2000)}".split(",").all(x, ${body} != "")`));
    expect(result.ok).toBe(false);
    expect(result.diagnostics[0]?.message).toContain('evaluation steps per call');
  });
});
