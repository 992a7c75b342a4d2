import type { Governor } from './governor.js';

/** Marks wrapped functions so instrumenting twice never enforces twice. */
export const INSTRUMENTED = Symbol.for('tollgate.instrumented');

/** What a wrapper remembers: the original function and the governor it currently reports to. */
export interface WrapState {
  original: (...args: never[]) => unknown;
  governor: Governor;
}

/** One call's parameters split into the tool's arguments and the way back. */
export interface CallParts {
  /** The arguments the policy sees. */
  args: unknown;
  /** True when {@link args} is the whole parameter list (a function with several parameters). */
  parameterList?: boolean;
  /** The parameters to call the tool with, carrying `args` (the checked snapshot) instead of the caller's arguments. */
  rebuild: (args: unknown) => unknown[];
}

/** Extracts the tool's arguments from a call's parameters, and an optional per-call abort signal. */
export interface CallShape {
  split: (params: unknown[]) => CallParts;
  signal?: (params: unknown[]) => AbortSignal | undefined;
}

/**
 * The parameter at `index` holds the arguments; the others (LangChain's run manager, the AI SDK's and
 * MCP's call options) are passed through as they are.
 * @example
 * const shape: CallShape = { split: (params) => argumentAt(params, 0) };
 */
export function argumentAt(params: unknown[], index: number): CallParts {
  return {
    args: params[index],
    rebuild: (args) => {
      const rebuilt = [...params];
      rebuilt[index] = args;
      return rebuilt;
    },
  };
}

/** Default: the single parameter, or the parameter list when there are several. */
export const FIRST_PARAMETER: CallShape = {
  split: (params) => {
    if (params.length === 0) return { args: undefined, rebuild: () => [] };
    if (params.length === 1) return argumentAt(params, 0);
    return { args: params, parameterList: true, rebuild: (args) => [...(args as unknown[])] };
  },
};

type AnyFunction = (this: unknown, ...params: unknown[]) => unknown;

/** A tool's name, or a function that reads it at each call (for tools that can be renamed, such as MCP's). */
export type ToolName = string | (() => string);

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
 * instrumenting twice does not enforce twice. `async function*` tools stay async generators. The tool
 * is called with the snapshot of its arguments that was checked (see `snapshotArguments`), never with
 * the caller's own objects. When `toolName` is a function, it is called at each call, before the decision request.
 * @example
 * const governed = governFunction(governor, 'read_file', async (path: string) => readFile(path, 'utf8'));
 */
export function governFunction<F extends (...params: never[]) => unknown>(governor: Governor, toolName: ToolName, fn: F, shape: CallShape = FIRST_PARAMETER): F {
  const existing = wrapStateOf(fn);
  if (existing) {
    existing.governor = governor;
    return fn;
  }
  const state: WrapState = { original: fn, governor };
  const original = fn as unknown as AnyFunction;
  const nameOf = typeof toolName === 'string' ? () => toolName : toolName;
  const wrapper = isAsyncGeneratorFunction(fn)
    ? async function* governedStream(this: unknown, ...params: unknown[]) {
        const parts = shape.split(params);
        yield* state.governor.stream(nameOf(), parts, (args) => original.apply(this, parts.rebuild(args)) as AsyncIterable<unknown>, shape.signal?.(params));
      }
    : async function governed(this: unknown, ...params: unknown[]) {
        const parts = shape.split(params);
        return state.governor.call(nameOf(), parts, (args) => original.apply(this, parts.rebuild(args)), shape.signal?.(params));
      };
  Object.defineProperty(wrapper, INSTRUMENTED, { value: state, enumerable: false });
  Object.defineProperty(wrapper, 'name', { value: fn.name || nameOf() });
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
