/**
 * Guest-side half of the host bridge, evaluated in every fresh QuickJS context before the entry code.
 *
 * It captures the built-ins it needs before any guest code runs (so later prototype pollution only changes the
 * guest's own view), removes the raw `__tg_*` functions from the global object, and turns every value into a JSON
 * string before it reaches the host. Values coming back are parsed inside the guest, so the guest only ever holds
 * objects of its own realm. The expression evaluates to the internal helpers the worker calls directly.
 */
export const GUEST_PRELUDE = String.raw`(function (g) {
  'use strict';
  const call = g.__tg_call, logRaw = g.__tg_log, writeRaw = g.__tg_write, timerRaw = g.__tg_timer, clearRaw = g.__tg_clear;
  const stringify = JSON.stringify, parse = JSON.parse, ErrorCtor = Error, TypeErrorCtor = TypeError;
  const StringCtor = String, MapCtor = Map, freeze = Object.freeze, defineProperty = Object.defineProperty;
  const resolved = Promise.resolve.bind(Promise), apply = Reflect.apply;
  const meta = parse(g.__tg_meta);
  const input = parse(g.__tg_input);
  for (const k of ['__tg_call', '__tg_log', '__tg_write', '__tg_timer', '__tg_clear', '__tg_meta', '__tg_input']) delete g[k];

  function text(value) {
    if (typeof value === 'string') return value;
    try { const s = stringify(value); if (typeof s === 'string') return s; } catch (e) { /* fall through */ }
    try { return StringCtor(value); } catch (e) { return '[unprintable value]'; }
  }
  function toError(e) {
    const err = new ErrorCtor(StringCtor(e.message));
    err.code = StringCtor(e.code);
    return err;
  }
  async function invoke(fn, args) {
    const raw = await call(fn, stringify(args));
    const reply = parse(raw);
    if (!reply.ok) throw toError(reply.error);
    return reply.value;
  }
  const api = {
    log(message, level) {
      logRaw(level === undefined ? 'info' : StringCtor(level), text(message));
      return resolved(undefined);
    },
    write_result(output) {
      const json = stringify(output);
      if (typeof json !== 'string') throw new TypeErrorCtor('write_result: output must be JSON-serialisable');
      writeRaw(json);
      return resolved(undefined);
    },
    http_request(url, method, headers, body) {
      return invoke('http_request', [url, method === undefined ? 'GET' : method, headers === undefined ? {} : headers,
        body === undefined ? null : body]);
    },
    read_context(key) { return invoke('read_context', [key]); },
    agentName: meta.agentName,
    agentVersion: meta.agentVersion,
    executionId: meta.executionId,
  };
  freeze(api);
  defineProperty(g, 'tollgate', { value: api, writable: false, enumerable: false, configurable: false });
  defineProperty(g, 'thetazero', { value: api, writable: false, enumerable: false, configurable: false });
  g.input = input;

  const timers = new MapCtor();
  let nextTimer = 1;
  function schedule(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeErrorCtor('timer callback must be a function');
    const id = nextTimer++;
    const delay = +ms > 0 ? +ms : 0;
    timers.set(id, { fn, args, repeat, delay });
    timerRaw(id, delay);
    return id;
  }
  function clear(id) { if (timers.delete(id)) clearRaw(id); }
  g.setTimeout = function setTimeout(fn, ms, ...args) { return schedule(fn, ms, args, false); };
  g.setInterval = function setInterval(fn, ms, ...args) { return schedule(fn, ms, args, true); };
  g.clearTimeout = clear;
  g.clearInterval = clear;

  function fire(id) {
    const t = timers.get(id);
    if (t === undefined) return;
    if (t.repeat) timerRaw(id, t.delay); else timers.delete(id);
    apply(t.fn, undefined, t.args);
  }
  function describe(e) {
    try {
      if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
        return stringify({ name: StringCtor(e.name), message: StringCtor(e.message) });
      }
      return stringify({ name: 'Thrown', message: StringCtor(e) });
    } catch (inner) {
      return '{"name":"Error","message":"<unprintable thrown value>"}';
    }
  }
  function serialize(value) { return value === undefined ? null : stringify(value); }
  return { fire, describe, serialize };
})(globalThis)`;

/**
 * Wraps entry code in an async function so top-level `await` and `return` work (the seed's examples use both).
 * The newline before `}` keeps a trailing line comment from swallowing the brace.
 *
 * @example
 * wrapEntryCode('return 1'); // '(async function () {\nreturn 1\n})()'
 */
export function wrapEntryCode(code: string): string {
  return `(async function () {\n${code}\n})()`;
}
