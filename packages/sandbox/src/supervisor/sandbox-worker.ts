import { Worker } from 'node:worker_threads';
import { CONTROL_ABORT, CONTROL_SLOTS, CONTROL_WASM_MB } from '../worker/protocol.js';
import type { ParentToWorker, WorkerInit, WorkerToParent } from '../worker/protocol.js';
import { WASM_HEADROOM_MB } from './options.js';

/** JS heap of a worker (the guest lives in WASM memory, outside it); also bounds what the bridge can buffer. */
const WORKER_HEAP_MB = 96;
/** Native stack of a worker: large enough that QuickJS's own stack limit trips before V8's. */
const WORKER_STACK_MB = 8;

/**
 * One worker thread with its shared control words. `onMessage`/`onExit` are set by the supervisor while a run is
 * attached; a worker that exits unexpectedly reports once through `onExit`.
 */
export class SandboxWorker {
  readonly bucketMb: number;
  readonly control: Int32Array;
  readonly ready: Promise<void>;
  baselineBytes = 0;
  alive = true;
  onMessage: ((message: WorkerToParent) => void) | undefined;
  onExit: ((reason: string) => void) | undefined;
  private readonly worker: Worker;

  constructor(entry: URL, bucketMb: number) {
    this.bucketMb = bucketMb;
    const shared = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.control = new Int32Array(shared);
    const init: WorkerInit = { control: shared, wasmMaxMb: bucketMb + WASM_HEADROOM_MB };
    this.worker = new Worker(entry, {
      workerData: init,
      env: {}, // the worker needs no environment variables; keep secrets out of its reach entirely
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, stackSizeMb: WORKER_STACK_MB },
      stdout: true,
      stderr: true,
    });
    // The guest has no console; anything the engine prints is noise we do not forward to the host's stdio.
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.ready = new Promise((resolve, reject) => {
      const onReady = (message: WorkerToParent): void => {
        if (message.type !== 'ready') return;
        this.baselineBytes = message.baselineBytes;
        this.worker.off('message', onReady);
        resolve();
      };
      this.worker.on('message', onReady);
      this.worker.once('exit', (code) => reject(new Error(`sandbox worker exited during start-up (code ${code})`)));
    });
    this.ready.catch(() => { /* awaited by the supervisor; never an unhandled rejection */ });
    this.worker.on('message', (message: WorkerToParent) => this.onMessage?.(message));
    this.worker.on('error', () => { /* reported through 'exit' */ });
    this.worker.on('exit', (code) => {
      this.alive = false;
      this.onExit?.(`worker exited with code ${code}`);
    });
  }

  post(message: ParentToWorker): void {
    if (this.alive) this.worker.postMessage(message);
  }

  /** Asks the interrupt handler to stop the guest at its next check. */
  requestAbort(): void {
    Atomics.store(this.control, CONTROL_ABORT, 1);
  }

  /** Current WASM memory of the worker in MiB, as last published by its interrupt handler. */
  wasmMb(): number {
    return Atomics.load(this.control, CONTROL_WASM_MB);
  }

  /** Stops the thread (V8 terminates running JS and WASM); safe to call more than once. */
  terminate(): void {
    if (!this.alive) return;
    this.alive = false;
    this.onMessage = undefined;
    this.onExit = undefined;
    void this.worker.terminate();
  }
}
