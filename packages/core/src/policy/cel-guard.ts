import { useShallowRuntimeTypes } from './cel-runtime-types.js';

/**
 * A run-time bound on CEL evaluation, behind the compile-time estimate (cel-cost.ts): should the estimate be wrong,
 * a condition stops with an error, which the engine counts as a match of a STEP_UP or BLOCK rule (fail closed),
 * instead of holding the event loop or exhausting the heap. The library has no limit of its own: every node it
 * evaluates goes through its evaluator's `run`, which this counts.
 */

export interface CelRunLimits {
  /**
   * Nodes the conditions evaluated for one call may evaluate together (each element of a comprehension counts its
   * body again).
   */
  readonly maxSteps: number;
  /** Longest string, bytes or list any node may produce (characters, bytes or elements). */
  readonly maxValueSize: number;
  /**
   * Wall-clock time the conditions evaluated for one call may take together, from the first one's start, checked
   * every 8 steps: one step can be a function or comparison that reads a whole argument (a `contains` on 1 MiB takes
   * 4 ms, `==` on a map of 100,000 keys 20 ms), which the step count alone does not see; and a policy of many rules
   * each just under a per-condition limit stalled the server for 4.8 s per call.
   */
  readonly maxMilliseconds: number;
}

/**
 * 10 million steps take 0.3 to 0.5 s; a condition that stays within the compile-time budget needs that many only
 * over a list of millions of elements. 16 Mi characters or elements is MAX_CALL_FACTOR times the default 1 MiB
 * request. A second is what a condition at the compile-time limits may take on a 1 MiB call.
 */
export const DEFAULT_CEL_RUN_LIMITS: CelRunLimits = { maxSteps: 10_000_000, maxValueSize: 16 * 1_048_576, maxMilliseconds: 1000 };

interface Evaluator {
  run(node: EvaluatedNode, context: unknown): unknown;
  debugType(value: unknown): unknown;
  debugTypeDeep(value: unknown): unknown;
}

interface EvaluatedNode {
  evaluate(evaluator: Evaluator, node: EvaluatedNode, context: unknown): unknown;
}

/**
 * Steps between two reads of the clock, minus one (a power of two). Reading it at every step doubled the time of a
 * 100-rule policy (37 → 80 µs); every 8th step it costs about an eighth (42 µs), and a step past the deadline is
 * noticed within 8 steps, across conditions too (the step count is the call's).
 */
const CLOCK_EVERY_STEPS_MASK = 7;

/** What every guarded condition evaluated for one call shares (the call is the context object they are given). */
interface CallBudget {
  readonly startedAt: number;
  steps: number;
}

interface Budget {
  /** Only evaluations of a guarded root count (the environment may evaluate other expressions). */
  active: boolean;
  /** Steps of the call so far (copied back to its CallBudget when the evaluation ends). */
  steps: number;
  /** performance.now() past which the evaluation stops. */
  deadline: number;
  limits: CelRunLimits;
  /** One error object, thrown again for every later step: a comprehension catches it per element. */
  stopped: Error | null;
}

const budgets = new WeakMap<Evaluator, Budget>();
/** Keyed by the context object: runRules builds one per call (and stage), and it is dropped with the call. */
const callBudgets = new WeakMap<object, CallBudget>();

/** Makes an evaluation count towards the budget of the call `context` belongs to (see guardEvaluation). */
export type EnterCall = (context: object) => void;

/**
 * Makes every evaluation of `ast` (of a parsed expression) count its steps and check the size of its values and
 * the time, and throw once past `limits`. Steps and time add up over all evaluations entered (with the returned
 * function) for the same context object, so all conditions of one call share one budget; an evaluation not entered
 * has a budget of its own.
 *
 * @example
 * const evaluate = env.parse('args.items.exists(i, i == 1)');
 * const enter = guardEvaluation(evaluate.ast, { maxSteps: 100, maxValueSize: 1000, maxMilliseconds: 1000 });
 * const context = { args: { items: Array(1000).fill(0) } };
 * enter(context);
 * evaluate(context) // throws 'more than 100 evaluation steps (the run-time limit of a condition)'
 */
export function guardEvaluation(ast: object, limits: CelRunLimits = DEFAULT_CEL_RUN_LIMITS): EnterCall {
  // The library's types leave `evaluate` out; it evaluates the root through its prototype method, which replaces
  // itself on the node with the operator's own function. The guard calls it the same way and puts itself back.
  const root = ast as EvaluatedNode;
  const evaluateRoot = root.evaluate;
  if (typeof evaluateRoot !== 'function') throw new Error('guardEvaluation: not a parsed CEL expression');
  let entered: CallBudget | null = null;
  const guarded = function guarded(this: EvaluatedNode, evaluator: Evaluator, node: EvaluatedNode, context: unknown): unknown {
    const budget = budgetOf(evaluator);
    const call = entered ?? { startedAt: performance.now(), steps: 0 };
    entered = null;
    budget.active = true;
    budget.steps = call.steps;
    budget.deadline = call.startedAt + limits.maxMilliseconds;
    budget.limits = limits;
    budget.stopped = null;
    try {
      checkBudget(budget);
      return evaluateRoot.call(this, evaluator, node, context);
    } finally {
      call.steps = budget.steps;
      budget.active = false;
      root.evaluate = guarded;
    }
  };
  root.evaluate = guarded;
  return (context) => {
    let call = callBudgets.get(context);
    if (!call) {
      call = { startedAt: performance.now(), steps: 0 };
      callBudgets.set(context, call);
    }
    entered = call;
  };
}

function budgetOf(evaluator: Evaluator): Budget {
  const existing = budgets.get(evaluator);
  if (existing) return existing;
  const budget: Budget = { active: false, steps: 0, deadline: 0, limits: DEFAULT_CEL_RUN_LIMITS, stopped: null };
  budgets.set(evaluator, budget);
  useShallowRuntimeTypes(evaluator, () => budget.active);
  evaluator.run = function run(this: Evaluator, node: EvaluatedNode, context: unknown): unknown {
    if (!budget.active) return node.evaluate(this, node, context);
    if ((++budget.steps & CLOCK_EVERY_STEPS_MASK) === 0 || budget.stopped) checkBudget(budget);
    const value = node.evaluate(this, node, context);
    if ((typeof value === 'string' || typeof value === 'object') && sizeOf(value) > budget.limits.maxValueSize) {
      throw stop(budget, `a value of more than ${budget.limits.maxValueSize} characters or elements`);
    }
    return value;
  };
  return budget;
}

/** Every 8th step, at the start of each evaluation, and at every step once stopped. */
function checkBudget(budget: Budget): void {
  if (budget.stopped) throw budget.stopped;
  const { maxSteps, maxMilliseconds } = budget.limits;
  if (budget.steps > maxSteps) throw stop(budget, `more than ${maxSteps} evaluation steps`);
  if (performance.now() > budget.deadline) throw stop(budget, `more than ${maxMilliseconds} ms`);
}

function stop(budget: Budget, what: string): Error {
  budget.stopped = new Error(`${what} (the run-time limit of a condition)`);
  return budget.stopped;
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value) || value instanceof Uint8Array) return value.length;
  return 0;
}
