import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCelEnvironment } from './cel.js';
import { compileClosure, FALLBACK } from './cel-closure.js';

const env = createCelEnvironment();

/** Result of the interpreter alone: a value, or 'error'. */
function interpret(expression: string, context: Record<string, unknown>): unknown {
  try {
    return env.parse(expression)(context);
  } catch {
    return 'error';
  }
}

const EXPRESSIONS = [
  'args.amount > 1000 && args.region != "eu"',
  'args.amount >= 10 || args.amount < -5',
  '!args.to.endsWith("@acme.example")',
  'args.to.startsWith("admin") || args.to.contains("root")',
  'args.region in ["eu", "uk"]',
  'args.amount == 1000',
  'args.flag == true',
  'has(args.meta) && args.meta.level == "high"',
  'emailDomain(args.to) != "acme.example"',
  'tool == "send_email" && args["amount"] <= 3',
  'args.missing == 1',
  'args.n > 1.5',
];

const CONTEXTS: Array<Record<string, unknown>> = [
  { tool: 'send_email', args: { amount: 1500, region: 'us', to: 'Bob@Acme.Example', flag: true, n: 2 } },
  { tool: 'x', args: { amount: 1000, region: 'eu', to: 'root@evil.example', meta: { level: 'high' } } },
  { tool: 'x', args: { amount: '1000', region: 3, to: null, flag: 'true', meta: 'str' } },
  { tool: 'x', args: { amount: 2.5, region: ['eu'], to: 'admin@acme.example', n: 1.5 } },
  { tool: 'x', args: {} },
];

describe('CEL closures agree with the interpreter', () => {
  it.each(EXPRESSIONS.flatMap((expression) => CONTEXTS.map((context, index) => [expression, index, context] as const)))(
    '%s on context %i', (expression, _index, context) => {
      const closure = compileClosure(env.parse(expression).ast);
      expect(closure).not.toBeNull();
      const fast = closure?.(context);
      if (fast !== FALLBACK) expect(fast).toEqual(interpret(expression, context));
    },
  );

  it('agrees on random argument values', () => {
    const expressions = EXPRESSIONS.map((expression) => ({ expression, closure: compileClosure(env.parse(expression).ast) }));
    const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
    fc.assert(fc.property(
      fc.record({ amount: value, region: value, to: value, flag: value, n: value, meta: fc.oneof(value, fc.record({ level: value })) }, { requiredKeys: [] }),
      (args) => {
        for (const { expression, closure } of expressions) {
          if (closure === null) throw new Error(`no closure for ${expression}`);
          const fast = closure({ tool: 't', args });
          if (fast !== FALLBACK) expect(fast).toEqual(interpret(expression, { tool: 't', args }));
        }
      },
    ), { numRuns: 300 });
  });

  it.each(['args.items.all(i, i > 0)', 'size(args.l) > 2', 'args.a + 1 > 2', 'timestamp("2024-01-01T00:00:00Z") < time.now'])(
    'leaves %s to the interpreter', (expression) => {
      expect(compileClosure(env.parse(expression).ast)).toBeNull();
    },
  );
});
