/**
 * Refuses, when a policy is compiled, the CEL constructs whose run-time cost is not bounded by the
 * size of the expression and its input. The interpreter has no time or memory budget and runs on
 * the server's event loop, so one such condition stalls or crashes the server for every tenant.
 */

/** Macros that iterate over a list; their body runs once per element. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter']);

/** Longest string or bytes literal in a condition (longer ones only served to build large inputs). */
export const MAX_LITERAL_LENGTH = 4096;

export interface CostProblem {
  readonly message: string;
  /** Offset inside the expression where the construct starts. */
  readonly offset: number;
}

interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly start?: number;
}

/**
 * Returns the first construct with unbounded cost, or null:
 * - a comprehension inside the body of another (ten nested `.all()` over a 10-element list run
 *   10^10 times);
 * - `cel.bind` (a bound `v + v`, rebound 24 times, grows a list past the heap and kills the process);
 * - `matches()` (V8's backtracking regular expressions take exponential time on patterns such as
 *   `^(a+)+$`, with no way to interrupt them);
 * - a string literal longer than MAX_LITERAL_LENGTH.
 *
 * @example
 * findCostProblem(env.parse('[1, 2].all(x, [3].exists(y, x == y))').ast) // { message: 'comprehensions cannot be nested …' }
 */
export function findCostProblem(ast: unknown): CostProblem | null {
  return visit(ast, false);
}

function visit(value: unknown, inComprehension: boolean): CostProblem | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = visit(item, inComprehension);
      if (problem) return problem;
    }
    return null;
  }
  if (!isNode(value)) return null;
  const offset = value.start ?? 0;
  if (value.op === 'value' && literalLength(value) > MAX_LITERAL_LENGTH) {
    return { message: `a string literal may have at most ${MAX_LITERAL_LENGTH} characters`, offset };
  }
  if (value.op === 'rcall' || value.op === 'call') {
    const [name, ...rest] = value.args as [unknown, ...unknown[]];
    const receiver = value.op === 'rcall' ? rest[0] : undefined;
    const callArgs = value.op === 'rcall' ? rest[1] : rest[0];
    if (name === 'matches') {
      return { message: 'matches() is not supported: a regular expression can take exponential time; use startsWith, endsWith, contains or in', offset };
    }
    if (name === 'bind' && isNode(receiver) && receiver.op === 'id' && receiver.args === 'cel') {
      return { message: 'cel.bind is not supported: a bound value can be doubled at every level', offset };
    }
    if (typeof name === 'string' && COMPREHENSIONS.has(name) && value.op === 'rcall') {
      if (inComprehension) {
        return { message: `comprehensions cannot be nested (${name}() inside another): the cost grows as a power of the list size`, offset };
      }
      return visit(receiver, false) ?? visit(callArgs, true);
    }
    return visit(receiver, inComprehension) ?? visit(callArgs, inComprehension);
  }
  return visit(value.args, inComprehension);
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { op?: unknown }).op === 'string';
}

/**
 * Estimates how many AST nodes one evaluation visits: every node once, and the body of a
 * comprehension once per element when its range is a list literal (a range read from the call
 * counts once: its size is bounded by the request, not by the policy).
 *
 * @example
 * estimateCost(env.parse('[1, 2, 3].all(x, x > 0)').ast) // 4 + 3 × 4 = 16
 */
export function estimateCost(ast: unknown): number {
  if (Array.isArray(ast)) return ast.reduce((total: number, item) => total + estimateCost(item), 0);
  if (!isNode(ast)) return 0;
  if (ast.op === 'rcall') {
    const [name, receiver, callArgs] = ast.args as [unknown, unknown, unknown];
    if (typeof name === 'string' && COMPREHENSIONS.has(name)) {
      return 1 + estimateCost(receiver) + rangeSize(receiver) * (1 + estimateCost(callArgs));
    }
  }
  return 1 + estimateCost(ast.args);
}

function rangeSize(node: unknown): number {
  if (!isNode(node)) return 1;
  if (node.op === 'list' && Array.isArray(node.args)) return Math.max(1, node.args.length);
  if (node.op === 'rcall') {
    const [name, receiver] = node.args as [unknown, unknown];
    if (name === 'map' || name === 'filter') return rangeSize(receiver);
    // "a,b,c,…".split(",") is a list literal in disguise: at most one element per character, plus one.
    if (name === 'split' && isNode(receiver) && receiver.op === 'value') return literalLength(receiver) + 1;
  }
  return 1;
}

function literalLength(node: AstNode): number {
  const value = node.args as unknown;
  return typeof value === 'string' || value instanceof Uint8Array ? value.length : 0;
}
