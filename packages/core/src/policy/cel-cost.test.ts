import { describe, expect, it } from 'vitest';
import { createCelEnvironment } from './cel.js';
import { KNOWN_FUNCTIONS } from './cel-cost-functions.js';
import { MAX_VALUE_SIZE, analyseCost } from './cel-cost.js';
import { loadPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { createSessionState } from './session-state.js';

// Session 13 red team: the estimate counted nodes, not the size of values, so an 8 KB condition built a
// 16.7-million-character string and iterated over it. One simulate request held the event loop of every tenant for
// 25 s, and a variant exhausted the heap and killed the process. Every condition below used to compile.

const a4096 = 'a'.repeat(4096);
const a256 = 'a'.repeat(256);

/** A policy whose one rule has `when` as a single-quoted YAML scalar on line 5, starting at column 12. */
function policyWith(when: string): string {
  return `agents: { bot: { approvedScope: [t] } }\nrules:\n  - id: r\n    match: { tools: [t] }\n    when: '${when.replaceAll("'", "''")}'\n    effect: BLOCK\n`;
}

function refusal(when: string): { message: string; line: number; column: number; milliseconds: number } {
  const started = performance.now();
  const result = loadPolicy(policyWith(when));
  const milliseconds = performance.now() - started;
  expect(result.ok).toBe(false);
  const [diagnostic] = result.diagnostics;
  expect(diagnostic).toMatchObject({ code: 'POLICY_CEL', path: 'rules[0].when', line: 5 });
  return { message: diagnostic?.message ?? '', line: diagnostic?.line ?? 0, column: diagnostic?.column ?? 0, milliseconds };
}

describe('the red team\'s conditions are refused at compile time', () => {
  it('split, join with a long separator, split again and iterate (stalled the server for 25 s)', () => {
    const when = `"${a4096}".split("").join("${a256}").split("").exists(c, "${a4096}".contains(c + "!"))`;
    const found = refusal(when);
    expect(found.message).toContain(`characters or elements (at most ${MAX_VALUE_SIZE.toLocaleString('en-US')})`);
    // Points at join(), the call that builds the string: column 12 is the first character of the condition.
    expect(found.column).toBe(12 + when.indexOf('join'));
    expect(found.milliseconds).toBeLessThan(1000);
  });

  it('the same string turned into lists of lists (killed the process: heap out of memory)', () => {
    const when = `"${a4096}".split("").join("${a256}").split("").map(c, [c,c,c,c,c,c,c,c]).map(l, l + l + l + l).size() > 0`;
    expect(refusal(when).message).toContain('characters or elements');
  });
});

describe('every way of building a large value from literals is refused', () => {
  const c64 = Array.from({ length: 64 }, () => 'c').join(', ');
  let doubling = `"${a4096}".split("")`;
  for (let level = 0; level < 7; level += 1) doubling += '.map(c, c + c)';

  it.each([
    ['a shorter separator, split again (the size cap, not the step budget)', `"${a4096}".split("").join("${'a'.repeat(200)}").split("").exists(c, c == "b")`],
    ['a long literal per element of a split literal', `"${a4096}".split("").map(c, "${a4096}").join("").size() > 0`],
    ['concatenation with a literal per element', `"${a4096}".split("").map(c, c + "${'b'.repeat(300)}").size() > 0`],
    ['a list literal per element, then lists concatenated', `"${a4096}".split("").map(c, [${c64}]).map(l, l + l + l + l + l + l + l + l).size() > 0`],
    ['an element doubled by seven chained maps', `${doubling}.size() > 0`],
    ['string literals added together', `(${Array.from({ length: 300 }, () => `"${a4096}"`).join(' + ')}).size() > 0`],
    ['a filtered list joined with a long separator', `"${a4096}".split("").filter(c, true).join("${a256}").size() > 0`],
    ['upper-casing (one character can become three) a joined string', `"${a4096}".split("").join("${'ß'.repeat(84)}").upperAscii().size() > 0`],
  ])('%s', (_label, when) => {
    expect(refusal(when).message).toContain('characters or elements');
  });
});

describe('values read from the call may not be amplified by the policy', () => {
  it.each([
    ['a call list joined with a long separator', `args.items.join("${a4096}") != ""`, 'times the size of the call'],
    ['a long literal per element of a call list', `args.items.map(i, "${'x'.repeat(100)}").size() > 0`, 'times the size of the call'],
    ['a call string split and copied per character', 'args.s.split("").map(c, [c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c]).size() > 0', 'times the size of the call'],
    ['the whole call string per character (memory grows with the square)', 'args.s.split("").map(c, args.s + c).size() > 0', 'square of the size of the call'],
    ['another call string searched per character', 'args.a.split("").exists(c, args.b.contains(c))', 'square of the size of the call'],
    ['membership in a call list per element', 'args.items.exists(i, i in args.blocked)', 'square of the size of the call'],
    ['an element joined with itself', 'args.items.exists(i, i.split("").join(i) != "")', 'square of the size of the call'],
    ['the keys of a call map searched for in a call string', 'args.m.all(k, args.text.contains(k))', 'square of the size of the call'],
    // Scanned a 1 MiB argument 4,096 times: 16 s, each scan one step of the interpreter.
    ['a call string searched once per character of a literal', `"${a4096}".split("").exists(c, args.s.contains(c))`, 'evaluation steps per character of the call (at most 64)'],
    // V8's string search is not linear: a 64 Ki-character pattern in 256 Ki characters took 1.8 s.
    ['one call string searched for in another', 'args.body.contains(args.needle)', 'searching one value read from the call in another grows with the square'],
    ['a call string split at another', 'args.body.split(args.separator).size() > 1', 'grows with the square'],
    ['a call string searched 300 times', Array.from({ length: 300 }, (_, index) => `args.s.contains("w${index}")`).join(' || '), 'this condition takes about'],
  ])('%s', (_label, when, message) => {
    expect(refusal(when).message).toContain(message);
  });
});

describe('work that is small in memory but long in time is refused', () => {
  it.each([
    ['a 4,096-character search per element of a split literal', `"${a4096}".split("").exists(c, "${a4096}".contains(c + "!"))`, 'evaluation steps per call'],
    ['a time-zone conversion per element', `"${a4096}".split("").exists(c, time.now.getHours("Europe/Paris") == 25)`, 'evaluation steps per call'],
    // 2,000 digits took 2.2 s and 10,000 six minutes: the library's duration parser backtracks in cubic time.
    ['duration() of a call value', 'duration(args.ttl) > duration("1h")', 'duration() takes only a string literal'],
    ['duration() of a long literal', `duration("${'1'.repeat(4000)}") > duration("1h")`, 'duration() takes only a string literal'],
    ['duration() of a 64-digit literal per element', `"${a4096}".split("").exists(c, duration("${'1'.repeat(64)}") > duration("1h"))`, 'evaluation steps per call'],
  ])('%s', (_label, when, message) => {
    expect(refusal(when).message).toContain(message);
  });
});

describe('ordinary conditions still compile, with small estimates', () => {
  it.each([
    'args.amount > 500 && args.currency == "EUR"',
    '!args.to.endsWith("@acme.example")',
    'emailDomain(args.to) != "acme.example"',
    'args.path.startsWith("/etc/") || args.path.contains("..")',
    'args.region in ["cn", "ru"]',
    'has(args.cc) && size(args.cc) > 5',
    'time.hour < 8 || time.hour >= 18',
    'session.violations >= 1 && tool == "shell"',
    'safety.injection > 0.35',
    'emailDomains(args.to).all(d, d == "acme.example")',
    'args.items.map(i, i.price).exists(p, p > 100)',
    'args.items.all(i, i > 0) && args.items.exists(i, i > 100)',
    'args.recipients.all(r, r.endsWith("@acme.example") || r.contains("+test"))',
    '["/etc/", "/root/", "/var/"].exists(p, args.path.startsWith(p))',
    'args.tags.exists(t, t in ["pii", "secret"])',
    'args.to.split(",").all(a, a.trim().lowerAscii().endsWith("@acme.example"))',
    'args.items.map(i, i + "@acme.example").exists(a, a == args.owner)',
    'args.a + args.b == args.c',
    '"send_email" in session.tools',
    'args.items.filter(i, i.price > 100).size() > 3',
    'duration("1h30m") > duration("1h")',
    'timestamp(args.when) > time.now',
    'time.now.getHours("Europe/Paris") >= 18',
    'string(args.amount).size() > 6',
    `"${'domain.example,'.repeat(200)}".split(",").exists(d, args.host == d)`,
    `[${Array.from({ length: 100 }, (_, index) => `"word${index}"`).join(', ')}].exists(w, args.body.contains(w))`,
    `emailDomains(args.to).all(d, d in [${Array.from({ length: 30 }, (_, index) => `"partner${index}.example"`).join(', ')}])`,
  ].map((when) => [when.length > 100 ? `${when.slice(0, 40)}…${when.slice(-50)}` : when, when]))('%s', (_label, when) => {
    const result = loadPolicy(policyWith(when));
    expect(result.diagnostics).toEqual([]);
    expect(result.ok && result.policy.cost).toBeLessThan(5000);
  });

  it('a condition over a large call list answers as before', () => {
    const result = loadPolicy(policyWith('args.recipients.exists(r, !r.endsWith("@acme.example"))'));
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    const recipients = Array.from({ length: 20_000 }, (_, index) => `user${index}@acme.example`);
    const input = { agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', enforcement: 'block' as const, now: 0 };
    expect(evaluatePolicy(result.policy, { ...input, arguments: { recipients } }, { session: createSessionState() }).decision).toBe('ALLOW');
    expect(evaluatePolicy(result.policy, { ...input, arguments: { recipients: [...recipients, 'x@evil.example'] } }, { session: createSessionState() }).decision).toBe('BLOCK');
  });
});

describe('the estimate knows every function of the environment', () => {
  // Handled by the estimate itself: the comprehension macros, and the two it refuses.
  const handled = new Set(['all', 'exists', 'exists_one', 'map', 'filter', 'matches', 'bind']);

  it('has a cost model for each function a condition can call', () => {
    const names = new Set(createCelEnvironment().getDefinitions().functions.map((definition: { name: string }) => definition.name));
    expect([...names].filter((name) => !KNOWN_FUNCTIONS.has(name) && !handled.has(name))).toEqual([]);
  });

  it('counts a comprehension over a list literal once per element', () => {
    const env = createCelEnvironment();
    const parsed = env.parse('[1, 2, 3].all(x, x > 0)');
    expect(parsed.check().valid).toBe(true);
    expect(analyseCost(parsed.ast)).toEqual({ cost: 18, callCost: 0 });
  });
});
