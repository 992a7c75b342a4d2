/**
 * Messages between the supervisor and a sandbox worker. Guest data crosses only as JSON strings, never as
 * structured-clone objects, so the parent always parses (and size-checks) what the guest produced.
 */

/** Slots of the per-worker `Int32Array` over a SharedArrayBuffer that the parent can read while the worker is busy. */
export const CONTROL_ABORT = 0; // parent → worker: non-zero asks the interrupt handler to stop the guest
export const CONTROL_WASM_MB = 1; // worker → parent: current WASM memory size in MiB
export const CONTROL_SLOTS = 4;

export interface WorkerInit {
  control: SharedArrayBuffer;
  /** Maximum WASM memory of this worker in MiB: a hard ceiling the engine cannot grow past. */
  wasmMaxMb: number;
}

export interface RunLimits {
  memoryBytes: number;
  stackBytes: number;
  timeoutMs: number;
  maxOutputBytes: number;
  maxLogEntries: number;
  maxLogMessageChars: number;
  maxTimers: number;
}

export interface RunMessage {
  type: 'run';
  runId: number;
  code: string;
  inputJson: string;
  metaJson: string;
  limits: RunLimits;
}

/** Outcome of one host call: the value as JSON text, or a plain error (code and message only). */
export type HostReply = { ok: true; json: string } | { ok: false; code: string; message: string };

export interface HostResultMessage {
  type: 'host_result';
  runId: number;
  callId: number;
  reply: HostReply;
}

export interface AbortMessage {
  type: 'abort';
  runId: number;
}

export type ParentToWorker = RunMessage | HostResultMessage | AbortMessage;

export interface ReadyMessage {
  type: 'ready';
  baselineBytes: number;
}

export interface LogMessage {
  type: 'log';
  runId: number;
  level: 'info' | 'warn' | 'error' | 'debug';
  message: string;
  tMs: number;
}

export interface WriteResultMessage {
  type: 'write_result';
  runId: number;
  json: string;
  tMs: number;
}

export interface HostCallMessage {
  type: 'host_call';
  runId: number;
  callId: number;
  fn: string;
  argsJson: string;
  tMs: number;
}

/** A host call the worker refused before it could cross (arguments too large or not serialisable), for the audit. */
export interface HostCallRefusedMessage {
  type: 'host_call_refused';
  runId: number;
  fn: string;
  /** Why, in the worker's words (never guest text). */
  summary: string;
  tMs: number;
}

export type RunOutcome =
  | { kind: 'completed'; returnJson: string | null }
  | { kind: 'error'; code: string; message: string };

export interface DoneMessage {
  type: 'done';
  runId: number;
  outcome: RunOutcome;
  cpuMs: number;
  peakMemoryBytes: number;
  /** When the interrupt handler stopped the guest for a limit (ms since the run started in the worker). */
  limitHitMs?: number;
  /** The worker's engine state is no longer trusted (or its WASM memory grew): replace it. */
  retire: boolean;
}

export type WorkerToParent = ReadyMessage | LogMessage | WriteResultMessage | HostCallMessage | HostCallRefusedMessage | DoneMessage;
