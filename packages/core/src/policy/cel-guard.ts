/**
 * A run-time bound on CEL evaluation, behind the compile-time estimate (cel-cost.ts): should the estimate be wrong,
 * a condition stops with an error, which the engine counts as a match of a STEP_UP or BLOCK rule (fail closed),
 * instead of holding the event loop or exhausting the heap. The library has no limit of its own: every node it
 * evaluates goes through its evaluator's `run`, which this counts.
 */

export interface CelRunLimits {
  /** Nodes one evaluation of a condition may evaluate (each element of a comprehension counts its body again). */
  readonly maxSteps: number;
  /** Longest string, bytes or list any node may produce (characters, bytes or elements). */
  readonly maxValueSize: number;
  /**
   * Wall-clock time one evaluation may take, checked every CLOCK_EVERY_STEPS steps: one step can be a function that
   * scans a whole argument (a `contains` on 1 MiB takes 4 ms), which the step count alone does not see.
   */
  readonly maxMilliseconds: number;
}

/** Steps between two reads of the clock (a read costs about as much as a step). */
const CLOCK_EVERY_STEPS = 32;

/**
 * 10 million steps take 0.3 to 0.5 s; a condition that stays within the compile-time budget needs that many only
 * over a list of millions of elements. 16 Mi characters or elements is MAX_CALL_FACTOR times the default 1 MiB
 * request. A second is what a condition at the compile-time limits may take on a 1 MiB call.
 */
export const DEFAULT_CEL_RUN_LIMITS: CelRunLimits = { maxSteps: 10_000_000, maxValueSize: 16 * 1_048_576, maxMilliseconds: 1000 };

interface Evaluator {
  run(node: EvaluatedNode, context: unknown): unknown;
}

interface EvaluatedNode {
  evaluate(evaluator: Evaluator, node: EvaluatedNode, context: unknown): unknown;
}

interface Budget {
  /** Only evaluations of a guarded root count (the environment may evaluate other expressions). */
  active: boolean;
  steps: number;
  /** Step at which the limits are checked next (the hot path compares one number). */
  checkAt: number;
  /** performance.now() past which the evaluation stops. */
  deadline: number;
  limits: CelRunLimits;
  /** One error object, thrown again for every later step: a comprehension catches it per element. */
  stopped: Error | null;
}

const budgets = new WeakMap<Evaluator, Budget>();

/**
 * Makes every evaluation of `ast` (of a parsed expression) count its steps and check the size of its values and
 * the time, and throw once past `limits`.
 *
 * @example
 * const evaluate = env.parse('args.items.exists(i, i == 1)');
 * guardEvaluation(evaluate.ast, { maxSteps: 100, maxValueSize: 1000, maxMilliseconds: 1000 });
 * evaluate({ args: { items: Array(1000).fill(0) } }) // throws 'more than 100 evaluation steps (the run-time limit of a condition)'
 */
export function guardEvaluation(ast: object, limits: CelRunLimits = DEFAULT_CEL_RUN_LIMITS): void {
  // The library's types leave `evaluate` out; it evaluates the root through its prototype method, which replaces
  // itself on the node with the operator's own function. The guard calls it the same way and puts itself back.
  const root = ast as EvaluatedNode;
  const evaluateRoot = root.evaluate;
  if (typeof evaluateRoot !== 'function') throw new Error('guardEvaluation: not a parsed CEL expression');
  const guarded = function guarded(this: EvaluatedNode, evaluator: Evaluator, node: EvaluatedNode, context: unknown): unknown {
    const budget = budgetOf(evaluator);
    budget.active = true;
    budget.steps = 0;
    budget.checkAt = Math.min(CLOCK_EVERY_STEPS, limits.maxSteps);
    budget.deadline = performance.now() + limits.maxMilliseconds;
    budget.limits = limits;
    budget.stopped = null;
    try {
      return evaluateRoot.call(this, evaluator, node, context);
    } finally {
      budget.active = false;
      root.evaluate = guarded;
    }
  };
  root.evaluate = guarded;
}

function budgetOf(evaluator: Evaluator): Budget {
  const existing = budgets.get(evaluator);
  if (existing) return existing;
  const budget: Budget = { active: false, steps: 0, checkAt: 0, deadline: 0, limits: DEFAULT_CEL_RUN_LIMITS, stopped: null };
  budgets.set(evaluator, budget);
  evaluator.run = function run(this: Evaluator, node: EvaluatedNode, context: unknown): unknown {
    if (!budget.active) return node.evaluate(this, node, context);
    if (++budget.steps > budget.checkAt) checkBudget(budget);
    const value = node.evaluate(this, node, context);
    if ((typeof value === 'string' || typeof value === 'object') && sizeOf(value) > budget.limits.maxValueSize) {
      throw stop(budget, `a value of more than ${budget.limits.maxValueSize} characters or elements`);
    }
    return value;
  };
  return budget;
}

/** Every CLOCK_EVERY_STEPS steps, and at every step once stopped. */
function checkBudget(budget: Budget): void {
  if (budget.stopped) throw budget.stopped;
  const { maxSteps, maxMilliseconds } = budget.limits;
  if (budget.steps > maxSteps) throw stop(budget, `more than ${maxSteps} evaluation steps`);
  if (performance.now() > budget.deadline) throw stop(budget, `more than ${maxMilliseconds} ms`);
  budget.checkAt = Math.min(budget.steps + CLOCK_EVERY_STEPS, maxSteps);
}

function stop(budget: Budget, what: string): Error {
  budget.stopped = new Error(`${what} (the run-time limit of a condition)`);
  budget.checkAt = -1;
  return budget.stopped;
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value) || value instanceof Uint8Array) return value.length;
  return 0;
}
