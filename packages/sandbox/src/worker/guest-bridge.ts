import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';

/** Largest JSON argument string a guest may hand to one host call. */
export const MAX_HOST_ARGS_CHARS = 1024 * 1024;

/**
 * Compiled only when a run fails: turns any thrown value into `{"name","message"}` inside the guest, so getters and
 * proxies on the thrown value run as guest code under the interrupt handler, never as host code.
 */
const DESCRIBE_SOURCE = `(function (e) {
  try {
    if (e !== null && (typeof e === 'object' || typeof e === 'function')) return JSON.stringify({ name: String(e.name), message: String(e.message) });
    return JSON.stringify({ name: 'Thrown', message: String(e) });
  } catch (inner) { return '{"name":"Error","message":"<unprintable thrown value>"}'; }
})`;

export type GuestErrorName = 'Error' | 'TypeError' | 'RangeError';
export type CallResult = { value: QuickJSHandle } | { error: QuickJSHandle };

/**
 * The built-ins the host relies on, captured from the fresh context before any guest code runs: the C
 * implementations of `JSON.stringify`, `JSON.parse`, `String` and `Object.freeze`. Replacing the globals later
 * changes only what the guest itself sees; the bridge keeps using the originals. There is no guest-side bridge code
 * (no prelude to compile, nothing for prototype pollution to hook into).
 */
export class GuestBuiltins {
  private readonly ctx: QuickJSContext;
  readonly stringify: QuickJSHandle;
  readonly parse: QuickJSHandle;
  readonly toText: QuickJSHandle;
  readonly freeze: QuickJSHandle;
  private readonly errorConstructors: Record<GuestErrorName, QuickJSHandle>;
  private describeFn: QuickJSHandle | undefined;

  constructor(ctx: QuickJSContext) {
    this.ctx = ctx;
    const json = ctx.getProp(ctx.global, 'JSON');
    this.stringify = ctx.getProp(json, 'stringify');
    this.parse = ctx.getProp(json, 'parse');
    json.dispose();
    this.toText = ctx.getProp(ctx.global, 'String');
    const object = ctx.getProp(ctx.global, 'Object');
    this.freeze = ctx.getProp(object, 'freeze');
    object.dispose();
    this.errorConstructors = {
      Error: ctx.getProp(ctx.global, 'Error'),
      TypeError: ctx.getProp(ctx.global, 'TypeError'),
      RangeError: ctx.getProp(ctx.global, 'RangeError'),
    };
  }

  call(fn: QuickJSHandle, ...args: QuickJSHandle[]): CallResult {
    const result = this.ctx.callFunction(fn, this.ctx.undefined, ...args);
    return 'error' in result && result.error ? { error: result.error } : { value: result.value! };
  }

  /** JSON text of a guest value (`undefined` when not representable), or the guest error it threw. */
  toJson(value: QuickJSHandle): { json: string | undefined } | { error: QuickJSHandle } {
    const result = this.call(this.stringify, value);
    if ('error' in result) return result;
    const json = this.ctx.typeof(result.value) === 'string' ? this.ctx.getString(result.value) : undefined;
    result.value.dispose();
    return { json };
  }

  /** A fresh guest-realm value from JSON text (host data only ever enters the guest this way). */
  fromJson(json: string): CallResult {
    const text = this.ctx.newString(json);
    const result = this.call(this.parse, text);
    text.dispose();
    return result;
  }

  /** A printable string for any guest value (log messages). */
  toPrintable(value: QuickJSHandle): string {
    if (this.ctx.typeof(value) === 'string') return this.ctx.getString(value);
    const asJson = this.toJson(value);
    if ('json' in asJson && asJson.json !== undefined) return asJson.json;
    if ('error' in asJson) asJson.error.dispose();
    const result = this.call(this.toText, value);
    if ('error' in result) { result.error.dispose(); return '[unprintable value]'; }
    const text = this.ctx.typeof(result.value) === 'string' ? this.ctx.getString(result.value) : '';
    result.value.dispose();
    return text;
  }

  /** Name and message of a thrown guest value; never throws, never runs host code on guest objects. */
  describe(error: QuickJSHandle): { name: string; message: string } {
    const fallback = { name: 'Error', message: '<unprintable thrown value>' };
    if (!this.describeFn) {
      const compiled = this.ctx.evalCode(DESCRIBE_SOURCE, 'describe.js');
      if (compiled.error) { compiled.error.dispose(); return fallback; }
      this.describeFn = compiled.value;
    }
    const result = this.call(this.describeFn, error);
    if ('error' in result) { result.error.dispose(); return fallback; }
    const raw = this.ctx.typeof(result.value) === 'string' ? this.ctx.getString(result.value) : '';
    result.value.dispose();
    try {
      const parsed = JSON.parse(raw) as { name?: unknown; message?: unknown };
      return { name: String(parsed.name).slice(0, 100), message: String(parsed.message).slice(0, 2000) };
    } catch {
      return fallback;
    }
  }

  /**
   * A guest-realm error made by the captured constructor (so it looks like any other error: non-enumerable message,
   * guest stack) carrying only a message and optionally a string `code`.
   */
  newError(name: GuestErrorName, message: string, code?: string): QuickJSHandle {
    const text = this.ctx.newString(message);
    const made = this.call(this.errorConstructors[name], text);
    text.dispose();
    const error = 'value' in made ? made.value : made.error;
    if (code !== undefined && this.ctx.typeof(error) === 'object') {
      const codeHandle = this.ctx.newString(code);
      this.ctx.setProp(error, 'code', codeHandle);
      codeHandle.dispose();
    }
    return error;
  }

  dispose(): void {
    const constructors = Object.values(this.errorConstructors);
    for (const handle of [this.stringify, this.parse, this.toText, this.freeze, this.describeFn, ...constructors]) handle?.dispose();
  }
}
