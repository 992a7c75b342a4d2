import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { MAX_HOST_ARGS_CHARS } from './guest-bridge.js';
import type { GuestBuiltins } from './guest-bridge.js';
import type { RunMessage } from './protocol.js';
import type { GuestSession } from './guest-session.js';

const LOG_LEVELS = new Set(['info', 'warn', 'error', 'debug']);
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** One pending guest timer; the handles are owned by the session until the timer is cleared or the run ends. */
export interface GuestTimer {
  node: NodeJS.Timeout;
  fn: QuickJSHandle;
  args: QuickJSHandle[];
  repeat: boolean;
  delayMs: number;
}

type HostFn = (...args: QuickJSHandle[]) => QuickJSHandle | { error: QuickJSHandle } | undefined;

/**
 * Installs the guest's world: `tollgate` and its alias `thetazero` (frozen, non-writable globals), `input`, and the
 * timer functions. Every function is a host function that reads plain values out of guest handles and hands back
 * fresh guest values; nothing of the host's object graph is ever placed in the guest.
 */
export function installHostApi(session: GuestSession, ctx: QuickJSContext, builtins: GuestBuiltins, message: RunMessage): void {
  removeUnsafeGlobals(ctx);
  const meta = JSON.parse(message.metaJson) as { agentName: string; agentVersion: string; executionId: string | number };
  const api = ctx.newObject();
  const functions: Record<string, HostFn> = {
    log: (msg, level) => guestLog(session, ctx, builtins, msg, level),
    write_result: (output) => writeResult(session, ctx, builtins, output),
    http_request: (...args) => hostCall(session, ctx, builtins, 'http_request', args.slice(0, 4), 4),
    read_context: (key) => hostCall(session, ctx, builtins, 'read_context', key ? [key] : [], 1),
  };
  for (const [name, impl] of Object.entries(functions)) defineConstant(ctx, api, name, ctx.newFunction(name, impl));
  defineConstant(ctx, api, 'agentName', ctx.newString(meta.agentName));
  defineConstant(ctx, api, 'agentVersion', ctx.newString(meta.agentVersion));
  defineConstant(ctx, api, 'executionId', typeof meta.executionId === 'number' ? ctx.newNumber(meta.executionId) : ctx.newString(meta.executionId));
  const frozen = builtins.call(builtins.freeze, api);
  if ('value' in frozen) frozen.value.dispose(); else frozen.error.dispose();
  defineConstant(ctx, ctx.global, 'tollgate', api.dup());
  defineConstant(ctx, ctx.global, 'thetazero', api);
  const input = builtins.fromJson(message.inputJson);
  if ('value' in input) { ctx.setProp(ctx.global, 'input', input.value); input.value.dispose(); } else input.error.dispose();
  const timers: Record<string, HostFn> = {
    setTimeout: (fn, ms, ...args) => setGuestTimer(session, ctx, builtins, false, fn, ms, args),
    setInterval: (fn, ms, ...args) => setGuestTimer(session, ctx, builtins, true, fn, ms, args),
    clearTimeout: (id) => clearGuestTimer(session, ctx, id),
    clearInterval: (id) => clearGuestTimer(session, ctx, id),
  };
  for (const [name, impl] of Object.entries(timers)) {
    const fn = ctx.newFunction(name, impl);
    ctx.setProp(ctx.global, name, fn);
    fn.dispose();
  }
}

/**
 * Built-ins the guest must not have. `SharedArrayBuffer`: this QuickJS build allocates a growable shared buffer's
 * full `maxByteLength` but zeroes only its initial length, so `grow()` hands the guest uninitialised WASM memory,
 * which holds what earlier executions on this worker (other agents, other tenants) left there. The guest has no
 * threads, so shared memory has no use in it. Deleted before any guest code runs; a failure fails the run closed.
 */
const UNSAFE_GLOBALS = ['SharedArrayBuffer'] as const;

function removeUnsafeGlobals(ctx: QuickJSContext): void {
  const source = `[${UNSAFE_GLOBALS.map((name) => `delete globalThis.${name} && !('${name}' in globalThis)`).join(', ')}].every(Boolean)`;
  const result = ctx.evalCode(source, 'sandbox-setup.js');
  const removed = !result.error && ctx.typeof(result.value) === 'boolean' && ctx.dump(result.value) === true;
  (result.error ?? result.value).dispose();
  if (!removed) throw new Error('could not remove unsafe guest globals');
}

function defineConstant(ctx: QuickJSContext, target: QuickJSHandle, name: string, value: QuickJSHandle): void {
  ctx.defineProp(target, name, { value, configurable: false, enumerable: true, writable: false } as never);
  value.dispose();
}

/** `Promise.resolve(undefined)` for the functions the seed documents as async but that need no round trip. */
function resolved(ctx: QuickJSContext): QuickJSHandle {
  const deferred = ctx.newPromise();
  deferred.resolve();
  const handle = deferred.handle.dup();
  deferred.dispose();
  return handle;
}

function guestLog(session: GuestSession, ctx: QuickJSContext, builtins: GuestBuiltins, msg?: QuickJSHandle, levelHandle?: QuickJSHandle) {
  const maxChars = session.limits.maxLogMessageChars;
  const level = levelHandle !== undefined && ctx.typeof(levelHandle) === 'string' ? ctx.getString(levelHandle) : 'info';
  const raw = msg === undefined ? 'undefined' : builtins.toPrintable(msg);
  const message = raw.length > maxChars ? `${raw.slice(0, maxChars)}… [truncated ${raw.length - maxChars} chars]` : raw;
  session.post({ type: 'log', runId: session.runId, level: (LOG_LEVELS.has(level) ? level : 'info') as 'info', message, tMs: session.elapsedMs() });
  return resolved(ctx);
}

/**
 * True when `text` takes more than `max` bytes as UTF-8 (what the limit and the stored output measure; a UTF-16 length
 * let `"€".repeat(n)` through at three times the limit). Counted only when the length alone cannot tell.
 */
export function utf8Exceeds(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return Buffer.byteLength(text, 'utf8') > max;
}

function writeResult(session: GuestSession, ctx: QuickJSContext, builtins: GuestBuiltins, output?: QuickJSHandle) {
  const max = session.limits.maxOutputBytes;
  const converted = builtins.toJson(output ?? ctx.undefined);
  if ('error' in converted) return { error: converted.error };
  if (converted.json === undefined) return { error: builtins.newError('TypeError', 'write_result: output must be JSON-serialisable') };
  if (utf8Exceeds(converted.json, max)) return { error: builtins.newError('RangeError', `write_result: output larger than ${max} bytes`) };
  session.post({ type: 'write_result', runId: session.runId, json: converted.json, tMs: session.elapsedMs() });
  return resolved(ctx);
}

function hostCall(session: GuestSession, ctx: QuickJSContext, builtins: GuestBuiltins, fn: string, args: QuickJSHandle[], arity: number) {
  // Missing and non-JSON arguments become null; the parent applies the documented defaults and validates.
  // Refusals here never reach the parent's broker, so they are reported for the audit (and the host-call count).
  const refused = (summary: string): void => session.post({ type: 'host_call_refused', runId: session.runId, fn, summary, tMs: session.elapsedMs() });
  const parts: string[] = [];
  for (let i = 0; i < arity; i++) {
    const arg = args[i];
    if (arg === undefined) { parts.push('null'); continue; }
    const converted = builtins.toJson(arg);
    if ('error' in converted) {
      refused(`argument ${i + 1} could not be serialised`);
      return { error: converted.error };
    }
    parts.push(converted.json ?? 'null');
  }
  const argsJson = `[${parts.join(',')}]`;
  if (argsJson.length > MAX_HOST_ARGS_CHARS) {
    refused(`arguments of ${argsJson.length} characters (limit ${MAX_HOST_ARGS_CHARS})`);
    return { error: builtins.newError('RangeError', `${fn}: arguments larger than ${MAX_HOST_ARGS_CHARS} characters`) };
  }
  const callId = session.nextCallId++;
  const deferred = ctx.newPromise();
  session.pendingCalls.set(callId, deferred);
  session.post({ type: 'host_call', runId: session.runId, callId, fn, argsJson, tMs: session.elapsedMs() });
  return deferred.handle.dup();
}

function setGuestTimer(session: GuestSession, ctx: QuickJSContext, builtins: GuestBuiltins, repeat: boolean,
  fn?: QuickJSHandle, msHandle?: QuickJSHandle, args: QuickJSHandle[] = []) {
  if (fn === undefined || ctx.typeof(fn) !== 'function') return { error: builtins.newError('TypeError', 'timer callback must be a function') };
  if (session.timers.size >= session.limits.maxTimers) {
    return { error: builtins.newError('RangeError', `at most ${session.limits.maxTimers} pending timers`) };
  }
  const ms = msHandle !== undefined && ctx.typeof(msHandle) === 'number' ? ctx.getNumber(msHandle) : 0;
  const delayMs = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_TIMER_DELAY_MS) : 0;
  const id = session.nextTimerId++;
  const node = setTimeout(() => session.fireTimer(id), delayMs);
  session.timers.set(id, { node, fn: fn.dup(), args: args.map((a) => a.dup()), repeat, delayMs });
  return ctx.newNumber(id);
}

function clearGuestTimer(session: GuestSession, ctx: QuickJSContext, idHandle?: QuickJSHandle) {
  if (idHandle === undefined || ctx.typeof(idHandle) !== 'number') return undefined;
  session.clearTimer(ctx.getNumber(idHandle));
  return undefined;
}
