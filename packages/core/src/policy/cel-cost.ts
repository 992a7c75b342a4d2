/**
 * Refuses, when a policy is compiled, the CEL constructs whose run-time cost is not bounded by the size of the
 * expression and its input, and estimates the cost of the others. Conditions run on the server's event loop, so
 * one such condition stalls or crashes the server for every tenant.
 *
 * The estimate follows the size of every value, not only the number of nodes: `"<4,096 a>".split("")
 * .join("<256 a>")` is five nodes but builds a string of a million characters, and iterating over it ran for 25 s
 * (see cel-bound.ts for how values read from the call are counted).
 */
import { AS_IS, CALL, CostRefusal, ITEM, ZERO, add, constant, larger, overIterations, scale, withElement } from './cel-bound.js';
import type { Bound, Weigh } from './cel-bound.js';
import { UNITS_PER_STEP, functionEffect, operatorEffect } from './cel-cost-functions.js';
import type { Effect, Estimate } from './cel-cost-functions.js';

/** Macros that iterate over a list; their body runs once per element. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter']);

const BINARY_OPERATORS = new Set(['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', 'in']);

/** Longest string or bytes literal in a condition (longer ones only served to build large inputs). */
export const MAX_LITERAL_LENGTH = 4096;

/**
 * Largest string, bytes or list (characters, bytes, or elements with their contents) a condition may build from its
 * own literals: the default size of a whole request (1 MiB). Legitimate conditions build a few thousand at most;
 * without a bound, a few chained calls reach hundreds of millions and exhaust the heap.
 */
export const MAX_VALUE_SIZE = 1_048_576;

/**
 * How many times the size of the call a value built from it may be (`args.a + args.b`, `args.to.split(",")`): with
 * the default 1 MiB body limit, 16 MiB of characters. `args.items.join("<4,096 characters>")` is 4,097 times.
 */
export const MAX_CALL_FACTOR = 16;

/**
 * Steps one condition may take per character (or element) of the call. Reading the call once per element of a
 * long list multiplies the call's size: `"<4,096 characters>".split("").exists(c, args.s.contains(c))` scans a
 * 1 MiB argument 4,096 times (over 1,000 steps per character, 16 s). Ordinary conditions take a few (a
 * comprehension over `args.items` its body once per item; `args.path.contains("..")` a quarter); 64 is about a
 * second on a 1 MiB call.
 */
export const MAX_STEPS_PER_CALL_UNIT = 64;

export interface CostProblem {
  readonly message: string;
  /** Offset inside the expression where the construct starts. */
  readonly offset: number;
}

interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly start?: number;
  readonly end?: number;
  readonly input?: unknown;
  readonly checkedType?: { readonly kind?: string; readonly name?: string };
}

/** The comprehension whose body is being estimated, if any (comprehensions cannot be nested). */
interface Scope {
  readonly variable: string | null;
  /** Size of the comprehension's range, which bounds the size of one element. */
  readonly range: Bound;
  /** What work in the body adds up to over every element. */
  readonly weigh: Weigh;
}

const TOP: Scope = { variable: null, range: ZERO, weigh: AS_IS };
const LEAF: Estimate = { size: constant(1), count: constant(1), cost: ZERO };

/**
 * Estimates the steps one evaluation of a type-checked condition takes, or returns the first construct refused:
 * - a comprehension inside the body of another (ten nested `.all()` over a 10-element list run 10^10 times);
 * - `cel.bind` (a bound `v + v`, rebound 24 times, grows a list past the heap and kills the process);
 * - `matches()` (V8's backtracking regular expressions take exponential time on patterns such as `^(a+)+$`);
 * - `duration()` of anything but a short literal (its parser takes cubic time);
 * - a string literal longer than MAX_LITERAL_LENGTH;
 * - a value that can grow past MAX_VALUE_SIZE, or past MAX_CALL_FACTOR times the call;
 * - work or a value that grows with the square of the call's size
 *   (`args.a.split("").exists(c, args.b.contains(c))`), or work past MAX_STEPS_PER_CALL_UNIT per unit of it.
 * Values read from the call count as one unit in the returned cost: the budget is per unit of input, as a
 * comprehension over `args.items` runs its body once per item. `callCost` is the steps per unit of the call alone,
 * which the conditions of a policy share (MAX_STEPS_PER_CALL_UNIT over all of them).
 *
 * @example
 * analyseCost(env.parse('[1, 2, 3].all(x, x > 0)').ast) // { cost: 18, callCost: 0 }
 * analyseCost(env.parse('[1, 2].all(x, [3].exists(y, x == y))').ast) // { problem: { message: 'comprehensions cannot be nested …', offset: 18 } }
 */
export function analyseCost(ast: unknown): { readonly cost: number; readonly callCost: number } | { readonly problem: CostProblem } {
  try {
    const { cost } = estimate(ast, TOP);
    checkCallWork(cost, 'this condition', '');
    return { cost: Math.ceil(cost.fixed + cost.call), callCost: cost.call };
  } catch (error) {
    if (error instanceof CostRefusal) return { problem: { message: error.message, offset: error.offset ?? 0 } };
    throw error;
  }
}

function estimate(value: unknown, scope: Scope): Estimate {
  if (!isNode(value)) return LEAF;
  try {
    const found = estimateNode(value, scope);
    checkSize(found.size, scope);
    return isScalar(value) ? { size: constant(1), count: constant(1), cost: found.cost } : found;
  } catch (error) {
    if (error instanceof CostRefusal && error.offset === undefined) throw new CostRefusal(error.message, offsetOf(value));
    throw error;
  }
}

function estimateNode(node: AstNode, scope: Scope): Estimate {
  const args = node.args;
  switch (node.op) {
    case 'value': return literal(node.args);
    case 'id': {
      const size = node.args === scope.variable ? ITEM : CALL;
      return { size, count: size, cost: constant(1) };
    }
    case '.': case '.?': case '[]': case '[?]': {
      // A field or element is at most as large as the value it is read from.
      const [container, key] = args as [unknown, unknown];
      const outer = estimate(container, scope);
      return { size: outer.size, count: outer.size, cost: add(constant(1), outer.cost, estimate(key, scope).cost) };
    }
    case '!_': case '-_': return { ...LEAF, cost: add(constant(1), estimate(args, scope).cost) };
    case '&&': case '||': return { ...LEAF, cost: add(constant(1), ...(args as unknown[]).map((arg) => estimate(arg, scope).cost)) };
    case '?:': {
      const [condition, then, otherwise] = (args as unknown[]).map((arg) => estimate(arg, scope)) as [Estimate, Estimate, Estimate];
      return {
        size: larger(then.size, otherwise.size), count: larger(then.count, otherwise.count),
        cost: add(constant(1), condition.cost, larger(then.cost, otherwise.cost)),
      };
    }
    case 'list': return collection((args as unknown[]).map((element) => [estimate(element, scope)]));
    case 'map': return collection((args as Array<[unknown, unknown]>).map(([key, item]) => [estimate(key, scope), estimate(item, scope)]));
    case 'rcall': case 'call': return call(node, scope);
    default: {
      if (!BINARY_OPERATORS.has(node.op)) throw new CostRefusal(`the operator ${node.op} is not supported: its cost is not known`);
      const [left, right] = (args as [unknown, unknown]).map((arg) => estimate(arg, scope)) as [Estimate, Estimate];
      return applied(operatorEffect(node.op, left, right, isScalar(node), scope.weigh), [left, right]);
    }
  }
}

function literal(value: unknown): Estimate {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) return { ...LEAF, cost: constant(1) };
  if (value.length > MAX_LITERAL_LENGTH) throw new CostRefusal(`a string literal may have at most ${MAX_LITERAL_LENGTH} characters`);
  return { size: constant(value.length), count: constant(value.length), cost: constant(1) };
}

/** A list (one estimate per element) or map (key and value per entry) literal. */
function collection(entries: ReadonlyArray<readonly Estimate[]>): Estimate {
  const parts = entries.flat();
  const count = constant(entries.length);
  return { size: add(count, ...parts.map((part) => part.size)), count, cost: add(constant(1), ...parts.map((part) => part.cost)) };
}

/** The estimate of a node that does `effect` after evaluating `inputs`. */
function applied(effect: Effect, inputs: readonly Estimate[]): Estimate {
  const work = add(scale(effect.work, 1 / UNITS_PER_STEP), constant(1 + (effect.steps ?? 0)));
  return { size: effect.size, count: effect.count ?? effect.size, cost: add(work, ...inputs.map((input) => input.cost)) };
}

function call(node: AstNode, scope: Scope): Estimate {
  const isMethod = node.op === 'rcall';
  const [name, first, second] = node.args as [unknown, unknown, unknown];
  const receiverNode = isMethod ? first : undefined;
  const argNodes = (isMethod ? second : first) as unknown[];
  if (typeof name !== 'string' || !Array.isArray(argNodes)) throw new CostRefusal('a call of an unknown form');
  if (name === 'matches') {
    throw new CostRefusal('matches() is not supported: a regular expression can take exponential time; use startsWith, endsWith, contains or in');
  }
  if (name === 'bind' && isNode(receiverNode) && receiverNode.op === 'id' && receiverNode.args === 'cel') {
    throw new CostRefusal('cel.bind is not supported: a bound value can be doubled at every level');
  }
  if (isMethod && COMPREHENSIONS.has(name)) return comprehension(name, receiverNode, argNodes, scope);
  const receiver = receiverNode === undefined ? undefined : estimate(receiverNode, scope);
  const args = argNodes.map((arg) => estimate(arg, scope));
  const effect = functionEffect(name, {
    receiver, args, literalReceiver: stringLiteral(receiverNode), literalArgument: stringLiteral(argNodes[0]), weigh: scope.weigh,
  });
  return applied(effect, receiver ? [receiver, ...args] : args);
}

function comprehension(name: string, rangeNode: unknown, argNodes: readonly unknown[], scope: Scope): Estimate {
  if (scope.variable !== null) {
    throw new CostRefusal(`comprehensions cannot be nested (${name}() inside another): the cost grows as a power of the list size`);
  }
  const range = estimate(rangeNode, scope);
  const [variableNode, ...bodyNodes] = argNodes;
  const variable = isNode(variableNode) && typeof variableNode.args === 'string' ? variableNode.args : '';
  const inner: Scope = { variable, range: range.size, weigh: overAllIterations(range) };
  const bodies = bodyNodes.map((body) => estimate(body, inner));
  const perIteration = add(constant(1), ...bodies.map((body) => body.cost));
  const cost = add(constant(1), range.cost, overIterations(perIteration, range.count, range.size, `the work of ${name}()`));
  checkCallWork(cost, `${name}()`, ': its body reads the call again for every element');
  if (name === 'filter') return { size: range.size, count: range.count, cost };
  const transform = bodies.at(-1);
  if (name !== 'map' || !transform) return { ...LEAF, cost };
  const size = add(range.count, overIterations(transform.size, range.count, range.size, 'the list map() builds'));
  return { size, count: range.count, cost };
}

/** Weighs work in a comprehension's body by what it adds up to over every element of `range`. */
function overAllIterations(range: Estimate): Weigh {
  return (bound) => {
    try {
      return overIterations(bound, range.count, range.size, '');
    } catch (error) {
      if (error instanceof CostRefusal) return null;
      throw error;
    }
  };
}

function checkSize(size: Bound, scope: Scope): void {
  // Inside a comprehension's body, one element is at most as large as the whole range.
  const resolved = withElement(size, scope.range);
  if (resolved.fixed > MAX_VALUE_SIZE) {
    throw new CostRefusal(`this can build a string or list of about ${format(resolved.fixed)} characters or elements (at most ${format(MAX_VALUE_SIZE)})`);
  }
  if (resolved.call > MAX_CALL_FACTOR) {
    throw new CostRefusal(`this can build a string or list about ${format(resolved.call)} times the size of the call (at most ${MAX_CALL_FACTOR} times)`);
  }
}

function checkCallWork(cost: Bound, what: string, why: string): void {
  if (cost.call > MAX_STEPS_PER_CALL_UNIT) {
    throw new CostRefusal(`${what} takes about ${format(cost.call)} evaluation steps per character of the call (at most ${MAX_STEPS_PER_CALL_UNIT})${why}`);
  }
}

function format(value: number): string {
  return Math.ceil(value).toLocaleString('en-US');
}

/** Numbers, bools, timestamps, durations and types have size 1 whatever their inputs were. */
function isScalar(node: AstNode): boolean {
  const type = node.checkedType;
  if (!type) return false;
  if (type.kind === 'message') return true;
  return type.kind === 'primitive' && type.name !== 'string' && type.name !== 'bytes';
}

/** Where a refusal points: at the method name of `a.b(…)` (the node itself starts at `a`). */
function offsetOf(node: AstNode): number {
  const start = node.start ?? 0;
  if (node.op !== 'rcall' || typeof node.input !== 'string') return start;
  const [name, receiver] = node.args as [unknown, unknown];
  if (typeof name !== 'string' || !isNode(receiver) || receiver.end === undefined) return start;
  const found = node.input.indexOf(name, receiver.end);
  return found < 0 ? start : found;
}

function stringLiteral(value: unknown): string | undefined {
  return isNode(value) && value.op === 'value' && typeof value.args === 'string' ? value.args : undefined;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { op?: unknown }).op === 'string';
}
