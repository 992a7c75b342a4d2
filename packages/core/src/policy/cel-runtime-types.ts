/**
 * Names the run-time type of call data in constant time and from a fixed set of types. When an operand is dyn
 * (every `args.*` value), cel-js names its type by following the first element or entry at every level of nesting
 * (`list<map<string, list<…>>>`): finding a plain object's first entry enumerates all its keys (`==` on a map of
 * 100,000 keys took 20 ms), and every name it builds is cached process-wide and forever, as are its overload caches
 * keyed by type, so callers sending ever-new nesting shapes grew the heap by about 78 KB per 200-byte call until the
 * server died. During a guarded evaluation the type is the one the library gives an empty list or map (`list<dyn>`,
 * `map<dyn, dyn>`), whose operators accept any elements.
 */

interface TypedEvaluator {
  debugType(value: unknown): unknown;
  debugTypeDeep(value: unknown): unknown;
}

/**
 * Makes `evaluator` (the interpreter's own) name values by their outer type only while `isEvaluating()`.
 *
 * @example
 * useShallowRuntimeTypes(evaluator, () => budget.active);
 */
export function useShallowRuntimeTypes(evaluator: TypedEvaluator, isEvaluating: () => boolean): void {
  const deep = evaluator.debugTypeDeep.bind(evaluator);
  const shallow = evaluator.debugType.bind(evaluator);
  evaluator.debugTypeDeep = (value) => (isEvaluating() ? shallow(value) : deep(value));
}
