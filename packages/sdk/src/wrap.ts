import type { Governor } from './governor.js';

/** Marks wrapped functions so instrumenting twice never enforces twice. */
export const INSTRUMENTED = Symbol.for('tollgate.instrumented');

/** What a wrapper remembers: the original function and the governor it currently reports to. */
export interface WrapState {
  original: (...args: never[]) => unknown;
  governor: Governor;
}

/** Extracts the tool's arguments from a call's parameters, and an optional per-call abort signal. */
export interface CallShape {
  args: (params: unknown[]) => unknown;
  signal?: (params: unknown[]) => AbortSignal | undefined;
}

/** Default: the single parameter, or the parameter list when there are several. */
export const FIRST_PARAMETER: CallShape = { args: (params) => (params.length <= 1 ? params[0] : params) };

type AnyFunction = (this: unknown, ...params: unknown[]) => unknown;

/** The wrap state of `fn`, when `fn` is already a governed wrapper. */
export function wrapStateOf(fn: unknown): WrapState | undefined {
  return typeof fn === 'function' ? (fn as unknown as { [INSTRUMENTED]?: WrapState })[INSTRUMENTED] : undefined;
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && fn.constructor?.name === 'AsyncGeneratorFunction';
}

/**
 * Returns a governed version of `fn` for tool `toolName`. When `fn` is already governed, the same
 * wrapper is returned and only its governor is replaced (the newest configuration wins), so
 * instrumenting twice does not enforce twice. `async function*` tools stay async generators.
 * @example
 * const governed = governFunction(governor, 'read_file', async (path: string) => readFile(path, 'utf8'));
 */
export function governFunction<F extends (...params: never[]) => unknown>(governor: Governor, toolName: string, fn: F, shape: CallShape = FIRST_PARAMETER): F {
  const existing = wrapStateOf(fn);
  if (existing) {
    existing.governor = governor;
    return fn;
  }
  const state: WrapState = { original: fn, governor };
  const original = fn as unknown as AnyFunction;
  const wrapper = isAsyncGeneratorFunction(fn)
    ? async function* governedStream(this: unknown, ...params: unknown[]) {
        yield* state.governor.stream(toolName, shape.args(params), () => original.apply(this, params) as AsyncIterable<unknown>, shape.signal?.(params));
      }
    : async function governed(this: unknown, ...params: unknown[]) {
        return state.governor.call(toolName, shape.args(params), () => original.apply(this, params), shape.signal?.(params));
      };
  Object.defineProperty(wrapper, INSTRUMENTED, { value: state, enumerable: false });
  Object.defineProperty(wrapper, 'name', { value: fn.name || toolName });
  return wrapper as unknown as F;
}

/**
 * Replaces `target[method]` with a governed wrapper, in place. Returns false when there is no such method.
 */
export function governMethod(governor: Governor, target: object, method: string, toolName: string, shape?: CallShape): boolean {
  const record = target as Record<string, unknown>;
  const fn = record[method];
  if (typeof fn !== 'function') return false;
  const governed = governFunction(governor, toolName, fn as (...params: never[]) => unknown, shape);
  if (governed !== fn) record[method] = governed;
  return true;
}
