import type { TollgateConfig } from './config.js';
import type { Governor } from './governor.js';
import { getDefaultRuntime } from './runtime.js';
import { governFunction } from './wrap.js';

/** A governed tool function: same parameters, always asynchronous. Async generator tools stay generators. */
export type Governed<F> = F extends (...params: infer P) => AsyncGenerator<infer Y, infer R, infer N>
  ? (...params: P) => AsyncGenerator<Y, R, N>
  : F extends (...params: infer P) => infer R
    ? (...params: P) => Promise<Awaited<R>>
    : never;

/** What looking up a record by a model-chosen (string) tool name gives back. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- model-chosen inputs are untyped JSON
export type GovernedToolFunction = (...params: any[]) => Promise<unknown> | AsyncGenerator<unknown>;

/**
 * The wrapped record: each key keeps its own signature, and indexing with any string (a tool name
 * chosen by the model) is allowed and may be `undefined`.
 */
export type GovernedRecord<T> = { [K in keyof T]: Governed<T[K]> } & Record<string, GovernedToolFunction | undefined>;

/**
 * Governs a `{ toolName: fn }` record with an existing governor; returns a new record.
 * The record has no prototype: agent loops look tools up by a model-chosen name (`wrapped[name]`), and an inherited
 * `constructor`, `toString` or `hasOwnProperty` would otherwise be found and run without any check.
 * @example
 * const fns = governFunctionRecord(governor, { search_docs: search });
 * fns['constructor']; // undefined
 */
export function governFunctionRecord<T extends Record<string, (...params: never[]) => unknown>>(governor: Governor, functions: T): GovernedRecord<T> {
  const governed = Object.create(null) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(functions)) {
    // defineProperty: an own "__proto__" tool stays a tool (plain assignment would set the prototype).
    Object.defineProperty(governed, name, {
      value: typeof fn === 'function' ? governFunction(governor, name, fn) : fn,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return governed as GovernedRecord<T>;
}

/**
 * Governs a `{ toolName: fn }` record. Each function is called by the agent loop with the model's
 * tool input; governance runs before it. The keys are the tool names the policy sees.
 * @example
 * const fns = wrapToolFunctions({ search_docs: search }, { agentId: 'a', approvedScope: ['search_docs'] });
 * await fns.search_docs({ query: 'retention' });
 */
export function wrapToolFunctions<T extends Record<string, (...params: never[]) => unknown>>(functions: T, config: TollgateConfig): GovernedRecord<T> {
  return governFunctionRecord(getDefaultRuntime().governor(config), functions);
}
