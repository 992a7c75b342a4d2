/**
 * Upper bounds of the form `fixed + call·N + item·X + callItem·N·X`, the arithmetic of the CEL cost estimate
 * (cel-cost.ts). N is the size of the call (its arguments, output and session facts): the request's own size limit
 * bounds it, and work linear in it is what the server already does to read the request. X is the size of the
 * element the enclosing comprehension is visiting: the elements of a list are disjoint parts of it, so work linear in
 * X, summed over all iterations, is linear in the list's size (`args.recipients.all(r, r.contains("evil"))` reads
 * each recipient once). N·X is linear too when the list is the condition's own (`["a", "b"].exists(w,
 * args.body.contains(w))`), not when it comes from the call. Any other product (N², X², N·X over a list from the
 * call) has no such bound and is refused.
 */
export interface Bound {
  readonly fixed: number;
  readonly call: number;
  readonly item: number;
  readonly callItem: number;
}

/** Thrown by the estimate when a condition is refused; `offset` is filled in by the node that finds it. */
export class CostRefusal extends Error {
  constructor(message: string, readonly offset?: number) {
    super(message);
  }
}

export const ZERO: Bound = { fixed: 0, call: 0, item: 0, callItem: 0 };
/** A value read from the call: at most N characters, elements or entries. */
export const CALL: Bound = { ...ZERO, call: 1 };
/** The element a comprehension is visiting. */
export const ITEM: Bound = { ...ZERO, item: 1 };

const SQUARE = 'grows with the square of the size of the call';

/**
 * A bound that does not depend on the call.
 *
 * @example
 * constant(4) // { fixed: 4, call: 0, item: 0, callItem: 0 }
 */
export function constant(fixed: number): Bound {
  return { ...ZERO, fixed };
}

/**
 * The bound of a sum.
 *
 * @example
 * add(constant(1), CALL) // { fixed: 1, call: 1, item: 0, callItem: 0 }
 */
export function add(...bounds: readonly Bound[]): Bound {
  let fixed = 0;
  let call = 0;
  let item = 0;
  let callItem = 0;
  for (const bound of bounds) {
    fixed += bound.fixed;
    call += bound.call;
    item += bound.item;
    callItem += bound.callItem;
  }
  return { fixed, call, item, callItem };
}

/**
 * The bound times a constant factor.
 *
 * @example
 * scale(CALL, 3) // { fixed: 0, call: 3, item: 0, callItem: 0 }
 */
export function scale(bound: Bound, factor: number): Bound {
  return { fixed: bound.fixed * factor, call: bound.call * factor, item: bound.item * factor, callItem: bound.callItem * factor };
}

/**
 * A bound of the larger of two values (term by term: every term is non-negative).
 *
 * @example
 * larger(constant(5), CALL) // { fixed: 5, call: 1, item: 0, callItem: 0 }
 */
export function larger(a: Bound, b: Bound): Bound {
  return {
    fixed: Math.max(a.fixed, b.fixed), call: Math.max(a.call, b.call), item: Math.max(a.item, b.item), callItem: Math.max(a.callItem, b.callItem),
  };
}

/**
 * What a per-evaluation bound adds up to where it is used (inside a comprehension's body: over all iterations), or
 * null when that grows with the square of the call.
 */
export type Weigh = (bound: Bound) => Bound | null;

/** Weighs a bound where it stands, outside any comprehension. */
export const AS_IS: Weigh = (bound) => bound;

/**
 * A bound of the smaller of two values: either one is, so take the one that adds up to less where it is used (the
 * least growth with the call first). In `args.items.exists(i, i == "literal")` the element is the better bound
 * (all elements together are the call's size), at the top level the literal.
 *
 * @example
 * smaller(CALL, constant(12), AS_IS) // { fixed: 12, call: 0, item: 0, callItem: 0 }
 */
export function smaller(a: Bound, b: Bound, weigh: Weigh): Bound {
  const weightA = weigh(a);
  const weightB = weigh(b);
  if (!weightA || !weightB) return weightA ? a : b;
  if (weightA.call !== weightB.call) return weightA.call < weightB.call ? a : b;
  return weightA.fixed <= weightB.fixed ? a : b;
}

/**
 * The bound of a product, or null when it has a term in N² or X², or a product of N·X with anything but a constant.
 *
 * @example
 * productOrNull(CALL, ITEM) // { fixed: 0, call: 0, item: 0, callItem: 1 }
 * productOrNull(CALL, CALL) // null
 */
export function productOrNull(a: Bound, b: Bound): Bound | null {
  const square = a.call * b.call + a.item * b.item
    + a.callItem * (b.call + b.item + b.callItem) + b.callItem * (a.call + a.item);
  if (square > 0) return null;
  return {
    fixed: a.fixed * b.fixed,
    call: a.fixed * b.call + a.call * b.fixed,
    item: a.fixed * b.item + a.item * b.fixed,
    callItem: a.fixed * b.callItem + a.callItem * b.fixed + a.call * b.item + a.item * b.call,
  };
}

/**
 * The bound of a product; throws a CostRefusal saying that `what` grows with the square of the call when
 * {@link productOrNull} has none.
 *
 * @example
 * multiply(constant(3), CALL, 'the list') // { fixed: 0, call: 3, item: 0, callItem: 0 }
 */
export function multiply(a: Bound, b: Bound, what: string): Bound {
  const product = productOrNull(a, b);
  if (!product) throw new CostRefusal(`${what} ${SQUARE}`);
  return product;
}

/**
 * The bound of one iteration's value once the element is known to be at most `element` (no amortizing: for the
 * size of a value that exists at one time).
 *
 * @example
 * withElement(ITEM, CALL) // { fixed: 0, call: 1, item: 0, callItem: 0 }
 */
export function withElement(bound: Bound, element: Bound): Bound {
  if (bound.callItem * element.call > 0) throw new CostRefusal(`this value ${SQUARE}`);
  return {
    fixed: bound.fixed + bound.item * element.fixed,
    call: bound.call + bound.item * element.call + bound.callItem * element.fixed,
    item: 0,
    callItem: 0,
  };
}

/**
 * A bound summed over every iteration of a comprehension with `count` elements whose sizes add up to `total`:
 * the constant and call terms once per element, the element terms once over all of them.
 *
 * @example
 * overIterations({ fixed: 2, call: 0, item: 1, callItem: 0 }, CALL, CALL, 'the body') // { fixed: 0, call: 3, item: 0, callItem: 0 }
 */
export function overIterations(perIteration: Bound, count: Bound, total: Bound, what: string): Bound {
  const repeated = multiply(count, { ...ZERO, fixed: perIteration.fixed, call: perIteration.call }, what);
  if (perIteration.callItem * total.call > 0) throw new CostRefusal(`${what} ${SQUARE}`);
  return add(repeated, scale(total, perIteration.item), { ...ZERO, call: perIteration.callItem * total.fixed });
}
