import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadPolicyAsync, parsedSourceFromData } from '@tollgate/core';
import type { CompileResult, ParsedSourceData } from '@tollgate/core';

/** Sources at least this long (characters) are parsed on the worker thread; shorter ones in place (< ~20 ms). */
export const OFF_THREAD_PARSE_CHARS = 32 * 1024;

/** Heap of the parsing worker: a source that needs more is refused, not the server's heap filled. */
const WORKER_HEAP_MB = 256;

/**
 * The worker: `parsePolicySourceData` of @tollgate/core (its built module, resolved by the main thread) per message.
 * Evaluated source with dynamic `import()` only, like the SQLite checkpointer, so it runs from sources and `dist/`.
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { parsePolicySourceData } = await import(workerData.coreUrl);
  parentPort.on('message', (message) => {
    try {
      parentPort.postMessage({ id: message.id, data: parsePolicySourceData(message.text) });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: String((error && error.message) || error) });
    }
  });
  parentPort.postMessage({ ready: true });
})().catch((error) => { throw error; });
`;

interface Pending {
  resolve: (data: ParsedSourceData) => void;
  reject: (error: Error) => void;
}

/** The parse of one source failed on the worker in a way that says something about the source (not the worker). */
class SourceRefused extends Error {}

/**
 * Loads policy text (parse, validate, compile; `loadPolicy` of @tollgate/core) without holding the event loop for
 * the YAML parse of a large source, nor for its whole compilation (compiled in slices of a few hundred rules, letting
 * other work run between them). Parsing is most of the cost (1 MB of rules: ~0.8 s of ~1 s here), and a policy
 * is loaded when it is created, versioned, linted, diffed, simulated, activated, and on every replica when its
 * activation is announced: each a stall for every request the server is handling. Sources of
 * {@link OFF_THREAD_PARSE_CHARS} and more are parsed on one worker thread (started on first use, unreferenced when
 * idle) and only validated and compiled here (compiled CEL is code, which cannot cross threads). If the worker
 * cannot start, sources are parsed in place as before; a source that kills the worker (its heap is capped) is
 * answered with a `POLICY_SYNTAX` diagnostic.
 *
 * @example
 * const loader = new PolicyLoader();
 * const result = await loader.load(source, { version: 3 });
 * await loader.close();
 */
export class PolicyLoader {
  #worker: Worker | undefined;
  #ready: Promise<Worker> | undefined;
  #pending = new Map<number, Pending>();
  #next = 1;
  #unavailable = false;
  #closed = false;
  #offThread = 0;

  /** How many sources were parsed on the worker thread so far (observability, tests). */
  get parsedOffThread(): number {
    return this.#offThread;
  }

  constructor(private readonly options: { offThreadChars?: number; onError?: (message: string) => void } = {}) {}

  /** `loadPolicy(text, options)`, with the parse of a large text off the event loop. */
  async load(text: string, options: { version?: number | null } = {}): Promise<CompileResult> {
    if (text.length < (this.options.offThreadChars ?? OFF_THREAD_PARSE_CHARS) || this.#unavailable || this.#closed) return loadPolicyAsync(text, { ...options, pause });
    let data: ParsedSourceData;
    try {
      data = await this.#parse(text);
    } catch (error) {
      if (error instanceof SourceRefused) {
        return { ok: false, diagnostics: [{ severity: 'error', code: 'POLICY_SYNTAX', message: `the policy source could not be parsed: ${error.message}`, path: '', line: 1, column: 1 }] };
      }
      return loadPolicyAsync(text, { ...options, pause });
    }
    this.#offThread += 1;
    return loadPolicyAsync(text, { ...options, parsed: parsedSourceFromData(text, data), pause });
  }

  /** Stops the worker (pending loads are parsed in place). */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    if (worker) await worker.terminate();
  }

  #parse(text: string): Promise<ParsedSourceData> {
    return this.#start().then((worker) => new Promise<ParsedSourceData>((resolve, reject) => {
      const id = this.#next++;
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, text });
    }));
  }

  #start(): Promise<Worker> {
    if (this.#ready) return this.#ready;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { coreUrl: coreModuleUrl() },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    this.#worker = worker;
    const ready = new Promise<Worker>((resolve, reject) => {
      let started = false;
      worker.on('message', (message: { ready?: boolean; id?: number; data?: ParsedSourceData; error?: string }) => {
        if (message.ready) {
          started = true;
          worker.unref();
          resolve(worker);
          return;
        }
        const item = message.id === undefined ? undefined : this.#pending.get(message.id);
        if (!item) return;
        this.#pending.delete(message.id!);
        if (this.#pending.size === 0) worker.unref();
        if (message.data) item.resolve(message.data);
        else item.reject(new SourceRefused(message.error ?? 'unknown error'));
      });
      worker.once('error', (error) => {
        if (!started) {
          // Cannot start here (e.g. @tollgate/core not built): parse in place from now on.
          this.#unavailable = true;
          this.options.onError?.(`policy parser thread did not start: ${error.message}; parsing in place`);
          reject(error);
        }
      });
      worker.once('exit', (code) => {
        if (this.#worker === worker) {
          this.#worker = undefined;
          this.#ready = undefined;
        }
        // The source being parsed killed the worker (its heap limit, a stack overflow): refuse those sources; the
        // next large source starts a new worker.
        // (After close() the worker was stopped on purpose: those sources are parsed in place instead.)
        for (const item of this.#pending.values()) item.reject(this.#closed ? new Error('closed') : new SourceRefused(`the parser stopped (exit code ${code})`));
        this.#pending.clear();
        if (!started) {
          this.#unavailable = true;
          reject(new Error(`policy parser thread exited before it started (code ${code})`));
        }
      });
    });
    this.#ready = ready;
    return ready;
  }
}

/**
 * The built module of @tollgate/core (`dist/index.js`): a worker runs plain JavaScript, also when this module runs
 * from its TypeScript sources (tests resolve the package to `src/`).
 */
function coreModuleUrl(): string {
  return pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('@tollgate/core/package.json')), 'dist', 'index.js')).href;
}

/** Lets the event loop run other work between two slices of a compilation. */
const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
