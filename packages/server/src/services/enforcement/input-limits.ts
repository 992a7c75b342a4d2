import { TollgateError } from '@tollgate/core';

/** Deepest nesting accepted in tool arguments and outputs (JSON.stringify and CEL recurse). */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses values nested deeper than `maxDepth` with 400 VALIDATION_FAILED, before anything recursive
 * (recording, CEL, hashing) touches them. Iterative, so it cannot overflow the stack itself.
 *
 * @example
 * assertJsonDepth(request.arguments, 'arguments');
 */
export function assertJsonDepth(value: unknown, field: string, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) {
      throw new TollgateError('VALIDATION_FAILED', `${field} nest deeper than ${maxDepth} levels`, { details: { field, maxDepth } });
    }
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
}

/**
 * True when the value holds an integer beyond ±(2^53 − 1). JSON parsing rounds such a number, so two different
 * numbers the tool would receive exactly (Python and Go parse integers exactly) look alike here: an approval
 * shown and bound to the rounded value cannot say which one it covers. Iterative; call after assertJsonDepth.
 *
 * @example
 * hasUnsafeInteger({ account: 12345678901234567890 }) // true
 */
export function hasUnsafeInteger(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'number' && Number.isInteger(current) && !Number.isSafeInteger(current)) return true;
    if (typeof current !== 'object' || current === null) continue;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push(child); // no spread: arrays can be huge
  }
  return false;
}
