import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compileCondition, createCelEnvironment } from './cel.js';
import type { CompiledCondition } from './cel.js';
import { DEFAULT_CEL_RUN_LIMITS } from './cel-guard.js';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { createSessionState } from './session-state.js';

function policyOf(...whens: string[]): CompiledPolicy {
  const rules = whens.map((when, index) => `  - id: r${index}\n    match: { tools: [t] }\n    when: ${JSON.stringify(when)}\n    effect: BLOCK\n`).join('');
  const result = loadPolicy(`agents: { bot: { approvedScope: [t] } }\nrules:\n${rules}`);
  if (!result.ok) throw new Error(result.diagnostics.map((diagnostic) => diagnostic.message).join('; '));
  return result.policy;
}

function refusal(...whens: string[]): string {
  const rules = whens.map((when, index) => `  - { id: r${index}, effect: BLOCK, when: ${JSON.stringify(when)} }`).join('\n');
  const result = loadPolicy(`agents: { bot: { approvedScope: ["*"] } }\nrules:\n${rules}\n`);
  return result.ok ? '' : result.diagnostics.map((diagnostic) => diagnostic.message).join('; ');
}

function evaluate(policy: CompiledPolicy, args: Record<string, unknown>) {
  return evaluatePolicy(policy, {
    agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', arguments: args, enforcement: 'block', now: Date.now(),
  }, { session: createSessionState() });
}

/** A 64-level nesting of lists and maps whose innermost 30 levels spell `serial` (a shape never sent before). */
function shape(serial: number): unknown {
  let open = '';
  let close = '';
  for (let level = 0; level < 63; level++) {
    const bit = 62 - level;
    if (bit < 30 && (serial >> bit) & 1) { open += '{"a":'; close = `}${close}`; } else { open += '['; close = `]${close}`; }
  }
  return JSON.parse(`${open}0${close}`);
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('call data cannot grow the interpreter\'s caches', () => {
  it('2,000 calls with new nesting shapes keep the heap flat', () => {
    // Each new shape of a dyn operand was named and cached forever: 2,000 calls of 200 bytes kept 157 MB.
    const policy = policyOf('args.amount > 1000', 'args.to == "a@acme.example"');
    for (let serial = 0; serial < 50; serial++) evaluate(policy, { amount: shape(serial), to: shape(serial) });
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    for (let serial = 50; serial < 2_050; serial++) evaluate(policy, { amount: shape(serial), to: shape(serial) });
    collectGarbage();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(10_000_000);
  });

  it('operators on dyn lists and maps still work', () => {
    const policy = policyOf('args.m == {"k": [1]} && args.l + ["x"] == [[1], "x"] && "k" in args.m');
    expect(evaluate(policy, { m: { k: [1] }, l: [[1]] }).decision).toBe('BLOCK');
    expect(evaluate(policy, { m: { k: [2] }, l: [[1]] }).decision).toBe('ALLOW');
  });
});

describe('comparing a large map read from the call', () => {
  const keys = Object.fromEntries(Array.from({ length: 100_000 }, (_, index) => [`k${index}`, 0]));
  const comparisons = Array.from({ length: 45 }, (_, index) => `args.m == "v${index}"`).join(' || ');

  it('takes constant time (45 comparisons with a 100,000-key map took 1 s; 5 such rules 4.8 s)', () => {
    const policy = policyOf(...Array.from({ length: 10 }, () => comparisons));
    const started = performance.now();
    const result = evaluate(policy, { m: keys });
    expect(performance.now() - started).toBeLessThan(100);
    expect(result.errors).toHaveLength(0);
  });
});

describe('the conditions of a policy share one budget per call', () => {
  it('steps per character of the call are summed over all conditions', () => {
    const reads = 'args.items.exists(x, x.name == "n") || args.to.contains("evil")';
    expect(refusal(...Array.from({ length: 5 }, () => reads))).toBe('');
    expect(refusal(...Array.from({ length: 40 }, () => reads))).toContain('steps per character of the call (at most 64 for all conditions together)');
  });

  it('conditions evaluated with one call\'s context after its time is spent fail; a new call starts afresh', () => {
    // Each condition had its own second, so a policy of many rules held the server for seconds per call.
    const env = createCelEnvironment();
    const limits = { ...DEFAULT_CEL_RUN_LIMITS, maxMilliseconds: 20 };
    const words = Array.from({ length: 100 }, (_, index) => `"w${index}"`).join(', ');
    const compiled = [1, 2].map(() => compileCondition(env, `[${words}].exists(w, args.body.contains(w + "!"))`, limits));
    const [first, second] = compiled.map((result) => {
      if ('error' in result) throw new Error(result.error.message);
      return result.condition;
    }) as [CompiledCondition, CompiledCondition];
    const call = { args: { body: 'w'.repeat(4_000_000) } };
    expect(first(call)).toBeInstanceOf(Error);
    const started = performance.now();
    expect((second(call) as Error).message).toContain('more than 20 ms');
    expect(performance.now() - started).toBeLessThan(5);
    expect(second({ args: { body: 'short' } })).toBe(false);
  });
});

describe('lastIndexOf costs text × pattern', () => {
  it('refuses a long pattern searched for in the call (4,095 characters in 1 M took 1.1 s)', () => {
    expect(refusal(`args.s.lastIndexOf("${'a'.repeat(4_095)}b") >= 0`)).toContain('evaluation steps per character of the call');
  });

  it.each(['args.path.lastIndexOf("/") > 0', 'args.name.lastIndexOf(".tar.gz") >= 0', '"a/b/c".lastIndexOf(args.sep) == 3'])('still compiles %s', (when) => {
    expect(refusal(when)).toBe('');
  });
});
