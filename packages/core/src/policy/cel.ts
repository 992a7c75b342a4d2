import { Environment } from '@marcbachmann/cel-js';
import { compileClosure } from './cel-closure.js';
import { analyseCost } from './cel-cost.js';
import { DEFAULT_CEL_RUN_LIMITS, guardEvaluation } from './cel-guard.js';
import type { CelRunLimits } from './cel-guard.js';

/** Variables a `when` condition can read. `output` exists only for `stage: output` rules. */
export const CEL_VARIABLES = ['tool', 'args', 'agent', 'user', 'session', 'time', 'safety', 'output'] as const;

export type CelVariable = (typeof CEL_VARIABLES)[number];

/** Structural limits for conditions, checked when the policy is compiled. */
export const DEFAULT_CEL_LIMITS = { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000 };

/** A compiled condition: returns true/false, or an Error when evaluation failed. */
export type CompiledCondition = (context: Record<string, unknown>) => boolean | Error;

export interface ConditionCompileError {
  readonly message: string;
  /** Offset inside the expression where the problem starts. */
  readonly offset: number;
}

/** Which context variables an expression reads, so the evaluator builds only those. */
export type VariableUse = ReadonlySet<CelVariable>;

/**
 * Creates the CEL environment policies are checked against. Expensive: build it once per compile.
 *
 * @example
 * const env = createCelEnvironment();
 */
export function createCelEnvironment(): Environment {
  return new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: false,
    limits: DEFAULT_CEL_LIMITS,
  })
    .registerVariable('tool', 'string')
    .registerVariable('args', 'map')
    .registerVariable('agent', 'map')
    .registerVariable('user', 'map')
    .registerVariable('session', 'map')
    .registerVariable('time', 'map')
    .registerVariable('safety', 'map')
    .registerVariable('output', 'dyn')
    .registerFunction('emailDomain(string): string', emailDomain)
    .registerFunction('emailDomains(string): list<string>', emailDomains);
}

/**
 * The lower-cased domain of one e-mail address (`Jane <jane@Acme.example>` → `acme.example`; no `@` → `''`). A text
 * holding several addresses is an error, which fails the rule closed: reading only the last one let
 * `partner@evil.example, team@acme.example` pass `emailDomain(args.to) != "acme.example"`. Use {@link emailDomains}
 * for lists.
 *
 * @example
 * emailDomain('Jane <jane@Acme.example>') // 'acme.example'
 */
export function emailDomain(address: string): string {
  const first = address.indexOf('@');
  if (first < 0) return '';
  if (address.indexOf('@', first + 1) >= 0) throw new Error('emailDomain: the text holds more than one address (use emailDomains for lists)');
  const domain = address.slice(first + 1).trim().replace(/>$/, '').trimEnd().toLowerCase();
  if (/[\s,;<>()"]/.test(domain)) throw new Error('emailDomain: the text is not one e-mail address');
  return domain;
}

/**
 * The lower-cased domains of every address in a list separated by `,` or `;` (`Name <addr>` forms too), for
 * `emailDomains(args.to).all(d, d == "acme.example")`.
 *
 * @example
 * emailDomains('a@x.example; Bob <b@Y.example>') // ['x.example', 'y.example']
 */
export function emailDomains(addresses: string): string[] {
  return addresses.split(/[,;]/).map((part) => part.trim()).filter((part) => part !== '').map(emailDomain);
}

/**
 * Parses and type-checks a condition once, and refuses it when its cost is not bounded (see analyseCost); the
 * returned closure never throws. A condition must produce a bool: any other result is reported as an Error at run
 * time, as is going past `runLimits`, which all conditions evaluated with the same context object (one call's)
 * share. `callCost` is the part of `cost` that grows with the call: steps per character of it.
 *
 * @example
 * const result = compileCondition(env, 'args.amount > 1000');
 * if ('condition' in result) result.condition({ args: { amount: 5 } }) // false
 */
export function compileCondition(
  env: Environment,
  expression: string,
  runLimits: CelRunLimits = DEFAULT_CEL_RUN_LIMITS,
): { condition: CompiledCondition; uses: VariableUse; cost: number; callCost: number } | { error: ConditionCompileError } {
  let evaluate: ReturnType<Environment['parse']>;
  try {
    evaluate = env.parse(expression);
  } catch (error) {
    return { error: toCompileError(error) };
  }
  const checked = evaluate.check();
  if (!checked.valid) return { error: toCompileError(checked.error) };
  const analysis = analyseCost(evaluate.ast);
  if ('problem' in analysis) return { error: analysis.problem };
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { error: { message: `condition must be a bool, not ${checked.type}`, offset: 0 } };
  }
  const fast = compileClosure(evaluate.ast);
  const enterCall = guardEvaluation(evaluate.ast, runLimits);
  const condition: CompiledCondition = (context) => {
    if (fast !== null) {
      const answer = fast(context);
      if (typeof answer === 'boolean') return answer;
    }
    try {
      // Every condition evaluated with this context (one call's) shares one run-time budget.
      enterCall(context);
      const value = evaluate(context);
      return typeof value === 'boolean' ? value : new Error(`condition returned ${describe(value)}, not a bool`);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  return { condition, uses: findVariableUse(expression), cost: analysis.cost, callCost: analysis.callCost };
}

function toCompileError(error: unknown): ConditionCompileError {
  if (error instanceof Error) {
    const range = (error as { range?: { start?: number } }).range;
    const summary = (error as { summary?: string }).summary;
    const message = summary ?? error.message.split('\n')[0] ?? error.message;
    return { message, offset: range?.start ?? 0 };
  }
  return { message: String(error), offset: 0 };
}

/** Finds the variables an expression mentions (identifiers not preceded by a dot and outside strings). */
function findVariableUse(expression: string): VariableUse {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  const used = new Set<CelVariable>();
  for (const name of CEL_VARIABLES) {
    if (new RegExp(`(^|[^.\\w])${name}\\b`).test(withoutStrings)) used.add(name);
  }
  return used;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'an int';
  return `a ${typeof value}`;
}

