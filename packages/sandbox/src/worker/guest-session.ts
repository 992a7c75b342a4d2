import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { wrapEntryCode } from './entry-code.js';
import { GuestBuiltins } from './guest-bridge.js';
import { installHostApi, utf8Exceeds } from './host-api.js';
import type { GuestTimer } from './host-api.js';
import { guestErrorOutcome, interruptOutcome } from './outcomes.js';
import type { InterruptReason } from './outcomes.js';
import { CONTROL_ABORT, CONTROL_WASM_MB } from './protocol.js';
import type { HostReply, RunMessage, RunOutcome, WorkerToParent } from './protocol.js';

/** WASM growth (beyond the post-load baseline) after which a worker is replaced: WASM memory never shrinks. */
export const RETIRE_AFTER_GROWTH_BYTES = 64 * 1024 * 1024;
const JOB_BATCH = 1000;

/** Worker-side services a session needs (passed in so the session stays testable and free of globals). */
export interface SessionEnvironment {
  module: QuickJSWASMModule;
  /** The module's WASM memory (only its current size is read). */
  memory: { readonly buffer: ArrayBuffer };
  control: Int32Array;
  baselineBytes: number;
  post: (message: WorkerToParent) => void;
  onFinished: () => void;
}

/**
 * One execution: a fresh QuickJS runtime and context, the bridge, and the event pump that runs promise jobs after
 * each host reply or timer. Every exit path goes through `finish`, which disposes the engine objects and reports
 * exactly once.
 */
export class GuestSession {
  readonly runId: number;
  private readonly env: SessionEnvironment;
  private readonly message: RunMessage;
  private readonly startedAt = performance.now();
  private readonly deadline: number;
  private readonly memoryCapBytes: number;
  private readonly startWasmBytes: number;
  private runtime: QuickJSRuntime | undefined;
  private context: QuickJSContext | undefined;
  private builtins: GuestBuiltins | undefined;
  private mainPromise: QuickJSHandle | undefined;
  readonly pendingCalls = new Map<number, QuickJSDeferredPromise>();
  readonly timers = new Map<number, GuestTimer>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private interruptReason: InterruptReason | undefined;
  private cpuMs = 0;
  private peakBytes = 0;
  private finished = false;
  private engineBroken = false;
  /** When the interrupt handler first saw a limit passed (ms since start), for the violation record. */
  private limitHitMs: number | undefined;
  nextCallId = 1;
  nextTimerId = 1;

  constructor(env: SessionEnvironment, message: RunMessage) {
    this.env = env;
    this.message = message;
    this.runId = message.runId;
    this.deadline = this.startedAt + message.limits.timeoutMs;
    this.memoryCapBytes = env.baselineBytes + message.limits.memoryBytes;
    this.startWasmBytes = env.memory.buffer.byteLength;
  }

  get limits(): RunMessage['limits'] { return this.message.limits; }
  elapsedMs(): number { return Math.round((performance.now() - this.startedAt) * 10) / 10; }
  post(message: WorkerToParent): void { this.env.post(message); }

  /** Creates the engine, installs the bridge, evaluates the entry code and runs until it waits or ends. */
  start(): void {
    const runtime = this.env.module.newRuntime();
    this.runtime = runtime;
    runtime.setMemoryLimit(this.message.limits.memoryBytes);
    runtime.setMaxStackSize(this.message.limits.stackBytes);
    runtime.setInterruptHandler(() => this.shouldInterrupt());
    const ctx = runtime.newContext();
    this.context = ctx;
    this.deadlineTimer = setTimeout(() => this.interruptIdle('TIMEOUT'), Math.max(0, this.deadline - performance.now()));
    this.guard(() => {
      this.builtins = new GuestBuiltins(ctx);
      installHostApi(this, ctx, this.builtins, this.message);
      const entry = this.timed(() => ctx.evalCode(wrapEntryCode(this.message.code), 'entry.js'));
      if (entry.error) return this.failWith(entry.error, 'GUEST_SYNTAX_ERROR');
      this.mainPromise = entry.value;
      this.pump();
    });
  }

  /** Runs pending promise jobs, then settles the run if the entry promise settled or nothing can wake it. */
  pump(): void {
    if (this.finished) return;
    this.guard(() => {
      const runtime = this.runtime!;
      while (runtime.hasPendingJob()) {
        const result = this.timed(() => runtime.executePendingJobs(JOB_BATCH));
        // A job failure is an uncatchable error (interrupt, out of memory); ordinary rejections stay in promises.
        if (result.error) result.error.dispose();
        if (this.interruptReason) return this.finishInterrupted();
        if (performance.now() > this.deadline) return this.finishInterrupted('TIMEOUT');
        // The run ends when the entry promise settles, even if the guest keeps queueing microtasks.
        if (this.mainSettled()) break;
      }
      this.settleIfDone();
    });
  }

  /** Settles a pending host call with the parent's reply: a fresh guest value, or a plain guest `Error`. */
  resolveCall(callId: number, reply: HostReply): void {
    const deferred = this.pendingCalls.get(callId);
    if (!deferred || this.finished) return;
    this.pendingCalls.delete(callId);
    this.guard(() => {
      const builtins = this.builtins!;
      const settled = reply.ok ? builtins.fromJson(reply.json) : { error: builtins.newError('Error', reply.message, reply.code) };
      if ('value' in settled) deferred.resolve(settled.value);
      else deferred.reject(settled.error);
      ('value' in settled ? settled.value : settled.error).dispose();
      deferred.dispose();
    });
    this.pump();
  }

  /** Fires a guest timer (called from the worker's own timer). */
  fireTimer(id: number): void {
    const timer = this.timers.get(id);
    if (this.finished || !timer) return;
    if (timer.repeat) timer.node = setTimeout(() => this.fireTimer(id), timer.delayMs);
    else this.timers.delete(id);
    this.guard(() => {
      const ctx = this.context!;
      // The call holds its own references: the callback may clear its own interval (`const id = setInterval(() =>
      // clearInterval(id))`), which frees the timer's handles while QuickJS is still running that function and its
      // arguments (a use-after-free in the engine's heap).
      const fn = timer.fn.dup();
      const args = timer.args.map((arg) => arg.dup());
      let result: ReturnType<QuickJSContext['callFunction']>;
      try {
        result = this.timed(() => ctx.callFunction(fn, ctx.undefined, ...args));
      } finally {
        releaseHandles([fn, ...args]);
      }
      if (!timer.repeat) this.disposeTimer(timer);
      if (result.error) {
        if (this.interruptReason) { result.error.dispose(); return this.finishInterrupted(); }
        const described = this.describe(result.error);
        this.post({ type: 'log', runId: this.runId, level: 'error', message: `uncaught error in timer: ${described.name}: ${described.message}`, tMs: this.elapsedMs() });
      } else {
        result.value.dispose();
      }
    });
    this.pump();
  }

  /** Cancels a guest timer and releases its handles. */
  clearTimer(id: number): void {
    const timer = this.timers.get(id);
    if (!timer) return;
    this.timers.delete(id);
    clearTimeout(timer.node);
    this.disposeTimer(timer);
  }

  private disposeTimer(timer: GuestTimer): void {
    if (timer.fn.alive) timer.fn.dispose();
    for (const arg of timer.args) if (arg.alive) arg.dispose();
  }

  /** The parent asked to stop (kill switch); also used for the idle deadline. */
  interruptIdle(reason: InterruptReason): void {
    if (this.finished) return;
    this.interruptReason ??= reason;
    this.finishInterrupted();
  }

  private shouldInterrupt(): boolean {
    if (this.interruptReason) return true;
    const bytes = this.env.memory.buffer.byteLength;
    Atomics.store(this.env.control, CONTROL_WASM_MB, Math.ceil(bytes / 1048576));
    if (bytes > this.peakBytes) this.peakBytes = bytes;
    if (Atomics.load(this.env.control, CONTROL_ABORT) !== 0) this.interruptReason = 'KILLED';
    else if (performance.now() > this.deadline) this.interruptReason = 'TIMEOUT';
    else if (bytes > this.memoryCapBytes) this.interruptReason = 'MEMORY_LIMIT';
    if (this.interruptReason !== undefined) this.limitHitMs = this.elapsedMs();
    return this.interruptReason !== undefined;
  }

  private mainSettled(): boolean {
    const state = this.context!.getPromiseState(this.mainPromise!);
    if (state.type === 'fulfilled') state.value.dispose();
    else if (state.type === 'rejected') state.error.dispose();
    return state.type !== 'pending';
  }

  private settleIfDone(): void {
    const ctx = this.context!;
    const state = ctx.getPromiseState(this.mainPromise!);
    if (state.type === 'fulfilled') {
      const json = this.serialize(state.value);
      state.value.dispose();
      if (json === undefined) return;
      if (json !== null && utf8Exceeds(json, this.message.limits.maxOutputBytes)) {
        return this.finish({ kind: 'error', code: 'OUTPUT_TOO_LARGE', message: `returned value is ${Buffer.byteLength(json, 'utf8')} bytes, limit ${this.message.limits.maxOutputBytes}` });
      }
      return this.finish({ kind: 'completed', returnJson: json });
    }
    if (state.type === 'rejected') return this.failWith(state.error, 'GUEST_ERROR');
    if (this.pendingCalls.size === 0 && this.timers.size === 0) {
      this.finish({ kind: 'error', code: 'GUEST_DEADLOCK', message: 'entry code awaits a promise that nothing can settle' });
    }
  }

  private serialize(value: QuickJSHandle): string | null | undefined {
    const converted = this.timed(() => this.builtins!.toJson(value));
    if ('error' in converted) {
      if (this.interruptReason) { converted.error.dispose(); this.finishInterrupted(); return undefined; }
      const described = this.describe(converted.error);
      this.finish({ kind: 'error', code: 'OUTPUT_NOT_JSON', message: `returned value is not JSON-serialisable: ${described.message}` });
      return undefined;
    }
    return converted.json ?? null;
  }

  /** Name and message of a guest error, computed inside the guest; disposes `error`. */
  describe(error: QuickJSHandle): { name: string; message: string } {
    try {
      return this.timed(() => this.builtins!.describe(error));
    } catch {
      return { name: 'Error', message: '<unprintable thrown value>' };
    } finally {
      if (error.alive) error.dispose();
    }
  }

  private failWith(error: QuickJSHandle, code: 'GUEST_ERROR' | 'GUEST_SYNTAX_ERROR'): void {
    if (this.interruptReason) { error.dispose(); return this.finishInterrupted(); }
    const described = this.describe(error);
    if (this.interruptReason) return this.finishInterrupted();
    const overMemory = this.env.memory.buffer.byteLength > this.memoryCapBytes;
    this.finish(guestErrorOutcome(described, code, overMemory, this.message.limits));
  }

  private finishInterrupted(reason?: InterruptReason): void {
    this.finish(interruptOutcome(reason ?? this.interruptReason ?? 'TIMEOUT', this.message.limits));
  }

  /** Runs engine work; a host-level exception (stack overflow in the host, engine abort) retires the worker. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.engineBroken = true;
      const isStack = error instanceof RangeError && /call stack/i.test(error.message);
      this.finish(isStack
        ? { kind: 'error', code: 'STACK_OVERFLOW', message: 'maximum stack size exceeded' }
        : { kind: 'error', code: 'WORKER_CRASHED', message: 'the sandbox engine failed and was replaced' });
    }
  }

  timed<T>(work: () => T): T {
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.cpuMs += performance.now() - t0;
    }
  }

  /**
   * Reports the outcome once. A worker that will be retired (engine no longer trusted, a memory-limit stop, or WASM
   * grown past the retire threshold) reports at once and skips freeing a possibly huge heap: terminating the thread
   * releases it all. Otherwise the engine objects are freed first, so a failure to free retires the worker too.
   */
  finish(outcome: RunOutcome): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadlineTimer);
    for (const timer of this.timers.values()) clearTimeout(timer.node);
    const wasmBytes = this.env.memory.buffer.byteLength;
    const grownBytes = Math.max(this.peakBytes, wasmBytes) - this.startWasmBytes;
    let retire = this.engineBroken || this.interruptReason === 'MEMORY_LIMIT'
      || wasmBytes - this.env.baselineBytes > RETIRE_AFTER_GROWTH_BYTES;
    let guestBytes = 0;
    if (!retire) {
      guestBytes = this.measureGuestBytes();
      retire = !this.disposeEngine();
    }
    Atomics.store(this.env.control, CONTROL_WASM_MB, Math.ceil(wasmBytes / 1048576));
    this.post({
      type: 'done',
      runId: this.runId,
      outcome,
      cpuMs: Math.round(this.cpuMs * 100) / 100,
      peakMemoryBytes: Math.max(guestBytes, grownBytes),
      retire,
      ...(this.limitHitMs === undefined ? {} : { limitHitMs: this.limitHitMs }),
    });
    this.env.onFinished();
  }

  /**
   * QuickJS's own estimate of live memory. (Its malloc accounting is blind in this build: "malloc_usable_size
   * unavailable" means every block counts as 8 bytes, which is why `setMemoryLimit` alone does not hold.)
   */
  private measureGuestBytes(): number {
    const ctx = this.context!;
    try {
      const usage = this.runtime!.computeMemoryUsage();
      const used = ctx.getProp(usage, 'memory_used_size');
      const value = ctx.typeof(used) === 'number' ? ctx.getNumber(used) : 0;
      used.dispose();
      usage.dispose();
      return value;
    } catch {
      return 0;
    }
  }

  /** Frees every engine object; false when the engine asserted (its state is then no longer trusted). */
  private disposeEngine(): boolean {
    try {
      for (const deferred of this.pendingCalls.values()) deferred.dispose();
      this.pendingCalls.clear();
      for (const timer of this.timers.values()) this.disposeTimer(timer);
      this.timers.clear();
      this.mainPromise?.dispose();
      this.builtins?.dispose();
      this.context?.dispose();
      this.runtime?.dispose();
      return true;
    } catch {
      // A guest that left the heap inconsistent (e.g. interrupted mid-allocation) can make dispose assert.
      this.engineBroken = true;
      return false;
    }
  }
}

/** Disposes call-time references; an engine that already failed keeps its error (the worker is retired anyway). */
function releaseHandles(handles: readonly QuickJSHandle[]): void {
  try {
    for (const handle of handles) if (handle.alive) handle.dispose();
  } catch {
    // Reported through the call's own error or the next engine operation.
  }
}
