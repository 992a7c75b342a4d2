/**
 * Entry file of a sandbox worker thread (loaded from `dist/`). It loads one QuickJS WASM module whose memory has a
 * hard maximum, then runs one execution at a time, each in a fresh runtime and context.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from 'quickjs-emscripten';
import { GuestSession } from './guest-session.js';
import { CONTROL_ABORT, CONTROL_WASM_MB } from './protocol.js';
import type { ParentToWorker, WorkerInit, WorkerToParent } from './protocol.js';

// @types/node does not declare the WebAssembly namespace (it lives in the DOM lib); this is the part we use.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
};

const WASM_PAGE_BYTES = 65536;
const INITIAL_PAGES = 256; // 16 MiB, the build's own default
// The QuickJS build declares a 2 GiB maximum for its imported memory; asking for more fails to link, which made the
// DEV template (2048 MB + headroom) unusable. Past this ceiling the interrupt handler and the parent watchdog still
// enforce the agent's limit.
const BUILD_MAX_PAGES = 32768;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker-main must run in a worker thread');
  const init = workerData as WorkerInit;
  const control = new Int32Array(init.control);
  const memory = new WebAssembly.Memory({
    initial: INITIAL_PAGES,
    maximum: Math.min(BUILD_MAX_PAGES, Math.max(INITIAL_PAGES, Math.floor((init.wasmMaxMb * 1048576) / WASM_PAGE_BYTES))),
  });
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory as never }));
  // Warm the engine once so the first real run does not pay for lazy initialisation.
  module.newRuntime().dispose();
  const baselineBytes = memory.buffer.byteLength;
  Atomics.store(control, CONTROL_WASM_MB, Math.ceil(baselineBytes / 1048576));
  const post = (message: WorkerToParent): void => port.postMessage(message);
  let session: GuestSession | undefined;

  port.on('message', (message: ParentToWorker) => {
    if (message.type === 'run') {
      if (session) return; // the supervisor never overlaps runs on one worker
      Atomics.store(control, CONTROL_ABORT, 0);
      session = new GuestSession(
        { module, memory, control, baselineBytes, post, onFinished: () => { session = undefined; } },
        message,
      );
      session.start();
    } else if (session && message.runId === session.runId) {
      if (message.type === 'host_result') session.resolveCall(message.callId, message.reply);
      else if (message.type === 'abort') session.interruptIdle('KILLED');
    }
  });
  post({ type: 'ready', baselineBytes });
}

void main();
