import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import type { RunMessage } from './protocol.js';
import type { GuestSession } from './guest-session.js';

/** Largest JSON argument string a guest may hand to one host call. */
export const MAX_HOST_ARGS_CHARS = 1024 * 1024;
const LOG_LEVELS = new Set(['info', 'warn', 'error', 'debug']);

/**
 * Installs the raw `__tg_*` globals the prelude captures and deletes. They accept only strings and numbers; anything
 * else (or an oversized value) makes them throw a guest-realm `TypeError`/`RangeError` carrying a fixed message,
 * never a host error object.
 */
export function installRawFunctions(session: GuestSession, ctx: QuickJSContext, message: RunMessage): void {
  const define = (name: string, handle: QuickJSHandle): void => {
    ctx.setProp(ctx.global, name, handle);
    handle.dispose();
  };
  define('__tg_meta', ctx.newString(message.metaJson));
  define('__tg_input', ctx.newString(message.inputJson));
  define('__tg_call', ctx.newFunction('call', (fn, args) => hostCall(session, ctx, fn, args)));
  define('__tg_log', ctx.newFunction('log', (level, text) => guestLog(session, ctx, level, text)));
  define('__tg_write', ctx.newFunction('write', (json) => writeResult(session, ctx, json)));
  define('__tg_timer', ctx.newFunction('timer', (id, ms) => setGuestTimer(session, ctx, id, ms)));
  define('__tg_clear', ctx.newFunction('clear', (id) => clearGuestTimer(session, ctx, id)));
}

function guestError(ctx: QuickJSContext, kind: 'TypeError' | 'RangeError', text: string): { error: QuickJSHandle } {
  return { error: ctx.newError({ name: kind, message: text }) };
}

function stringArg(ctx: QuickJSContext, handle: QuickJSHandle | undefined, maxChars: number): string | undefined {
  if (handle === undefined || ctx.typeof(handle) !== 'string') return undefined;
  const value = ctx.getString(handle);
  return value.length <= maxChars ? value : undefined;
}

function hostCall(session: GuestSession, ctx: QuickJSContext, fnHandle?: QuickJSHandle, argsHandle?: QuickJSHandle) {
  const fn = stringArg(ctx, fnHandle, 64);
  const argsJson = stringArg(ctx, argsHandle, MAX_HOST_ARGS_CHARS);
  if (fn === undefined || argsJson === undefined) {
    return guestError(ctx, 'TypeError', `host call arguments must be JSON of at most ${MAX_HOST_ARGS_CHARS} characters`);
  }
  const callId = session.nextCallId++;
  const deferred = ctx.newPromise();
  session.pendingCalls.set(callId, deferred);
  session.post({ type: 'host_call', runId: session.runId, callId, fn, argsJson, tMs: session.elapsedMs() });
  return deferred.handle;
}

function guestLog(session: GuestSession, ctx: QuickJSContext, levelHandle?: QuickJSHandle, textHandle?: QuickJSHandle) {
  const maxChars = session.limits.maxLogMessageChars;
  const level = stringArg(ctx, levelHandle, 16) ?? 'info';
  const raw = textHandle !== undefined && ctx.typeof(textHandle) === 'string' ? ctx.getString(textHandle) : '';
  const message = raw.length > maxChars ? `${raw.slice(0, maxChars)}… [truncated ${raw.length - maxChars} chars]` : raw;
  session.logCount += 1;
  session.post({
    type: 'log',
    runId: session.runId,
    level: (LOG_LEVELS.has(level) ? level : 'info') as 'info',
    message,
    tMs: session.elapsedMs(),
  });
}

function writeResult(session: GuestSession, ctx: QuickJSContext, jsonHandle?: QuickJSHandle) {
  const max = session.limits.maxOutputBytes;
  const json = stringArg(ctx, jsonHandle, max);
  if (json === undefined) return guestError(ctx, 'RangeError', `write_result: output larger than ${max} characters`);
  session.post({ type: 'write_result', runId: session.runId, json, tMs: session.elapsedMs() });
}

function setGuestTimer(session: GuestSession, ctx: QuickJSContext, idHandle?: QuickJSHandle, msHandle?: QuickJSHandle) {
  if (idHandle === undefined || ctx.typeof(idHandle) !== 'number') return guestError(ctx, 'TypeError', 'bad timer id');
  const id = ctx.getNumber(idHandle);
  if (session.timers.size >= session.limits.maxTimers) {
    return guestError(ctx, 'RangeError', `at most ${session.limits.maxTimers} pending timers`);
  }
  const ms = msHandle !== undefined && ctx.typeof(msHandle) === 'number' ? ctx.getNumber(msHandle) : 0;
  const delay = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 2_147_483_647) : 0;
  session.timers.set(id, setTimeout(() => session.fireTimer(id), delay));
}

function clearGuestTimer(session: GuestSession, ctx: QuickJSContext, idHandle?: QuickJSHandle) {
  if (idHandle === undefined || ctx.typeof(idHandle) !== 'number') return;
  const id = ctx.getNumber(idHandle);
  clearTimeout(session.timers.get(id));
  session.timers.delete(id);
}
